import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startSample, type RunningSample } from '../src/main.js';

/**
 * A real browser through the sample: Debian's `chromium` package driven by playwright-core (no bundled browser is
 * downloaded). Without the browser the suite is skipped with a notice, except on CI, where a missing browser is a failure.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const haveChromium = existsSync(CHROMIUM);

if (!haveChromium && !process.env.CI) {
  console.warn(`[sample.browser.spec] SKIPPED: ${CHROMIUM} is missing. Install it with: apt-get install -y chromium`);
}

(haveChromium || process.env.CI ? describe : describe.skip)('the sample web app in a real browser (chromium)', () => {
  let sample: RunningSample;
  let browser: BrowserContext;
  let userDataDir: string;
  let page: Page;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing and CI is set: .ci/run must install chromium`);
    sample = await startSample({ webAppPort: 0, tasksApiPort: 0, profileApiPort: 0, emulatorPort: 0 });
    // A fresh profile every run: no cookies or cached state from an earlier run can make the test pass.
    userDataDir = mkdtempSync(join(tmpdir(), 'sample-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      // The emulator serves HTTPS with a certificate from its own throwaway CA; only this browser profile accepts it.
      ignoreHTTPSErrors: true,
      viewport: { width: 1000, height: 900 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sample?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  /** On the emulator's account picker, choose the account with this username. */
  async function pickAccount(username: string): Promise<void> {
    await page.locator(`button[data-username="${username}"]`).click();
  }

  it('signs Alice in on the picker and shows her profile as the profile API saw it', async () => {
    const alice = sample.entra!.defaults.users.member;
    await page.goto(sample.webApp.url);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Pick an account' }).waitFor();
    await pickAccount(alice.username);

    await page.getByText(`Signed in as ${alice.displayName}`).waitFor();
    const text = await page.locator('body').innerText();
    expect(text).toContain('Your profile, as the profile API saw the call');
    expect(text).toContain(alice.id); // the user's oid survived the On-Behalf-Of exchange
    expect(text).toContain(sample.settings.tasksApi.clientId); // azp: the tasks API made the call

    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
  });

  it('steps Bob up to MFA (the page shows the code), shows his profile, then signs him out', async () => {
    const bob = sample.entra!.defaults.users.mfaUser;
    await page.goto(sample.webApp.url);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await pickAccount(bob.username);

    // The tasks API answers /me with a claims challenge; the web app signs Bob in again with those claims, and the
    // emulator may show the picker once more before it asks for the second factor.
    const code = page.locator('#verification-code');
    await Promise.race([code.waitFor(), page.locator(`button[data-username="${bob.username}"]`).waitFor()]);
    if (!(await code.isVisible())) await pickAccount(bob.username);
    const otc = await code.getAttribute('data-code');
    expect(otc).toMatch(/\S/);
    await page.locator('#otc').fill(otc!);
    await page.getByRole('button', { name: 'Verify' }).click();

    await page.getByText(`Signed in as ${bob.displayName}`).waitFor();
    expect(await page.locator('body').innerText()).toContain(bob.id);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'sample-web-app-after-mfa.png'), fullPage: true });

    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).origin).toBe(new URL(sample.webApp.url).origin);
  });
});
