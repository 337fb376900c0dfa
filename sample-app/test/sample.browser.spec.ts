import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { browserTestPrerequisites, launchChromium, type TestBrowser } from '../../test/support/browser.js';
import { startSample, type RunningSample } from '../src/main.js';

/**
 * A real browser through the sample: Debian's `chromium` driven by playwright-core, trusting the emulator's CA as a
 * user does after `npm start` tells them how (an NSS database, test/support/browser.ts), not ignoring certificate
 * errors. Without chromium or certutil the suite is skipped with a notice, except on CI, where that is a failure.
 */
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const missing = browserTestPrerequisites();

if (missing && !process.env.CI) {
  console.warn(`[sample.browser.spec] SKIPPED: ${missing}`);
}

(!missing || process.env.CI ? describe : describe.skip)('the sample web app in a real browser (chromium)', () => {
  let sample: RunningSample;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    if (missing) throw new Error(`${missing}, and CI is set: .ci/run must install them`);
    sample = await startSample({ webAppPort: 0, tasksApiPort: 0, profileApiPort: 0, emulatorPort: 0 });
    // A fresh profile and NSS database every run: no cookies, cached state or trust from an earlier run.
    browser = await launchChromium(sample.entra!.caCertificatePem);
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sample?.close();
  });

  it('refuses the emulator in a browser that was not told to trust its CA (so the trust below is what works)', async () => {
    const untrusting = await launchChromium();
    try {
      await expect(untrusting.page.goto(`${sample.entra!.authority()}/v2.0/.well-known/openid-configuration`)).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await untrusting.close();
    }
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
    expect(text).toContain('Sign-in: password only');

    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
  });

  it('steps Bob up: explains why, asks for the second factor without a second picker, and shows it was used', async () => {
    const bob = sample.entra!.defaults.users.mfaUser;
    await page.goto(sample.webApp.url);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await pickAccount(bob.username);

    // The tasks API answers /me with a claims challenge: the web app says what happens next before it happens.
    await page.getByRole('heading', { name: 'One more step: a second factor' }).waitFor();
    expect(await page.locator('body').innerText()).toContain('requires multi-factor authentication');
    await page.getByRole('link', { name: 'Continue with a second factor' }).click();

    // The second sign-in names Bob (login_hint): straight to the second factor, no account picker.
    const code = page.locator('#verification-code');
    await code.waitFor();
    const otc = await code.getAttribute('data-code');
    expect(otc).toMatch(/\S/);
    await page.locator('#otc').fill(otc!);
    await page.getByRole('button', { name: 'Verify' }).click();

    await page.getByText(`Signed in as ${bob.displayName}`).waitFor();
    const text = await page.locator('body').innerText();
    expect(text).toContain(bob.id);
    expect(text).toContain('Sign-in: password and a second factor');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'sample-web-app-after-mfa.png'), fullPage: true });

    await page.getByRole('link', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).origin).toBe(new URL(sample.webApp.url).origin);
  });
});
