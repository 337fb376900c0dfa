// A real Chromium for browser tests: Debian's `chromium` driven by playwright-core (which downloads no browser), with
// a CA trusted the way a user trusts it, in the NSS database Chromium reads on Linux, never by ignoring certificate
// errors. Each launch gets a throwaway HOME (so its own ~/.pki/nssdb) and profile: nothing on the machine changes.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const run = promisify(execFile);

export const CHROMIUM = '/usr/bin/chromium';
/** certutil, from Debian's libnss3-tools. */
export const CERTUTIL = '/usr/bin/certutil';

/** What is missing to run a browser test (with how to install it), or undefined when nothing is. */
export function browserTestPrerequisites(): string | undefined {
  const missing = [
    ...(existsSync(CHROMIUM) ? [] : [`${CHROMIUM} (apt-get install -y chromium)`]),
    ...(existsSync(CERTUTIL) ? [] : [`${CERTUTIL} (apt-get install -y libnss3-tools)`]),
  ];
  return missing.length > 0 ? `missing ${missing.join(' and ')}` : undefined;
}

export interface TestBrowser {
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with `trustedCaPem` (if given) trusted as a CA for websites (`-t C,,`), as
 * `certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n <name> -i ca.pem` does for a user. Without it the browser trusts
 * only what it trusts out of the box.
 */
export async function launchChromium(trustedCaPem?: string): Promise<TestBrowser> {
  const home = await mkdtemp(join(tmpdir(), 'chromium-home-'));
  try {
    if (trustedCaPem !== undefined) {
      const nssdb = `sql:${join(home, '.pki/nssdb')}`;
      await mkdir(join(home, '.pki/nssdb'), { recursive: true, mode: 0o700 });
      await writeFile(join(home, 'ca.pem'), trustedCaPem);
      await run(CERTUTIL, ['-d', nssdb, '-N', '--empty-password']);
      await run(CERTUTIL, ['-d', nssdb, '-A', '-t', 'C,,', '-n', 'entra-emulator', '-i', join(home, 'ca.pem')]);
    }
    const context = await chromium.launchPersistentContext(join(home, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      env: { ...process.env, HOME: home },
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      viewport: { width: 1000, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    return {
      context,
      page,
      close: async () => {
        await context.close();
        await rm(home, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(home, { recursive: true, force: true });
    throw error;
  }
}
