import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startSample, type RunningSample } from '../src/main.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(__dirname, '../../test-artifacts');

/** A real browser: Debian's Chromium, headless. Skipped with a notice without it, unless CI (then it must be there). */
function describeWithChromium(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => it('needs Chromium', () => { throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`); }));
  } else {
    console.warn(`Skipping "${name}": no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    describe.skip(name, body);
  }
}

describeWithChromium('the sample in a real browser', () => {
  let sample: RunningSample;
  let browser: Browser;

  beforeAll(async () => {
    sample = await startSample({ webAppPort: 0, tasksApiPort: 0, profileApiPort: 0, emulatorPort: 0 });
    // Playwright gives each launch a fresh, empty profile directory of its own.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await sample?.close();
  });

  it('signs Bob in, steps him up to MFA, shows his profile and signs him out', async () => {
    // The emulator's certificate comes from its own CA: this throwaway browser context accepts it (and nothing else runs in it).
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const bob = sample.entra!.defaults.users.mfaUser;

    await page.goto(sample.webApp.url);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: new RegExp(bob.displayName) }).click();
    // The home page calls the tasks API, whose On-Behalf-Of exchange meets the MFA policy: the web app signs Bob in
    // again with the claims, and the emulator asks for the second factor, showing the code.
    await page.getByRole('button', { name: new RegExp(bob.displayName) }).click();
    const code = await page.locator('#verification-code').textContent();
    await page.getByLabel('Enter code').fill(code!.trim());
    await page.getByRole('button', { name: 'Verify' }).click();

    await page.getByText('Your profile, as the profile API saw the call').waitFor();
    const text = await page.textContent('body');
    expect(text).toContain('Bob Baker');
    expect(text).toContain(bob.id);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'sample-profile.png'), fullPage: true });

    // Sign-out ends the session, then the emulator's logout endpoint sends the browser back to the home page.
    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByText('You are not signed in').waitFor();
    expect(page.url()).toBe(`${sample.webApp.url}/`);
    await context.close();
  }, 60_000);
});
