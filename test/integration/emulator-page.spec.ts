// The emulator's page (GET /) in a real browser: Debian's chromium driven by playwright-core, as the sample's browser
// test does. The browser trusts exactly the emulator's TLS key (--ignore-certificate-errors-spki-list with the
// base64 SHA-256 of its SubjectPublicKeyInfo), not every certificate: nothing else gets past its checks.
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { useEmulator } from '../support/emulator.js';
import { postForm, tokenEndpoint } from './entra-http-kit.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) console.warn(`[emulator-page.spec] SKIPPED: ${CHROMIUM} is missing. Install it with: apt-get install -y chromium`);

/** base64(SHA-256(SPKI)) of the certificate a TLS server presents: what Chromium's SPKI allow-list takes. */
function serverSpkiHash(authorityHost: string, ca: string): Promise<string> {
  const { hostname, port } = new URL(authorityHost);
  return new Promise((resolve, reject) => {
    // SNI carries names only (RFC 6066 §3), so no servername for an address.
    const socket = connect({ host: hostname, port: Number(port), ca, ...(isIP(hostname) ? {} : { servername: hostname }) }, () => {
      const certificate = new X509Certificate(socket.getPeerCertificate().raw);
      resolve(createHash('sha256').update(certificate.publicKey.export({ format: 'der', type: 'spki' })).digest('base64'));
      socket.end();
    });
    socket.once('error', reject);
  });
}

const XSS = '<img src=x onerror="document.title=\'pwned\'">';

(haveChromium || process.env.CI ? describe : describe.skip)("the emulator's page in a real browser (chromium)", () => {
  const entra = useEmulator({}, { reset: 'never' });
  let browser: BrowserContext;
  let userDataDir: string;
  let page: Page;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing and CI is set: install chromium`);
    userDataDir = mkdtempSync(join(tmpdir(), 'emulator-page-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--ignore-certificate-errors-spki-list=${await serverSpkiHash(entra.authorityHost, entra.caCertificatePem)}`,
      ],
      viewport: { width: 1280, height: 1000 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('shows the directory, policies, queued faults and received requests, every value escaped, secrets hidden', async () => {
    const d = entra.defaults;
    entra.faults.inject({ type: 'throttle', retryAfterSec: 7 }, { endpoint: 'jwks', times: 2 });
    // A request whose client id and scope are markup: the page must show them as text.
    await (await postForm(entra, tokenEndpoint(entra, d.tenants.primary.id), { grant_type: 'client_credentials', client_id: XSS, client_secret: 'x', scope: XSS })).arrayBuffer();
    const response = await page.goto(`${entra.authorityHost}/`);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('Entra ID emulator');
    const text = (id: string) => page.locator(`#${id}`).innerText();
    expect(await text('tenants')).toContain(d.tenants.primary.id);
    expect(await text('users')).toContain(d.users.mfaUser.username);
    expect(await text('apps')).toContain(d.apps.middleTierApi.app.clientId);
    expect(await text('policies')).toContain(d.policies.mfaForDownstream.id);
    expect(await text('faults')).toMatch(/throttle\s+jwks[\s\S]*2/);
    const requests = await text('requests');
    expect(requests).toContain(XSS.toLowerCase());
    expect(await page.locator('#requests img').count()).toBe(0);
    expect(await page.content()).not.toContain(d.apps.daemon.clientSecret);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'emulator-page.png'), fullPage: true });
  });

  it('refreshes by itself: a request made after the page opened appears without a reload', async () => {
    await page.goto(`${entra.authorityHost}/`);
    const marker = `/common/oauth2/v2.0/token-${Date.now()}`;
    await (await entra.fetch(`${entra.authorityHost}${marker}`)).arrayBuffer();
    await page.locator('#requests', { hasText: marker }).waitFor();
  });

  it('shows secrets when asked, and links to each tenant\'s discovery document', async () => {
    const d = entra.defaults;
    await page.goto(`${entra.authorityHost}/?secrets=show`);
    expect(await page.locator('#apps').innerText()).toContain(d.apps.daemon.clientSecret);
    await page.locator('#tenants a').first().click();
    await page.waitForURL(/openid-configuration$/);
    const document = JSON.parse(await page.locator('body').innerText()) as { issuer: string };
    expect(document.issuer).toBe(entra.issuer(d.tenants.primary.id));
  });
});
