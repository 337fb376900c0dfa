import { decodeJwt } from 'jose';
import { TokenAcquisitionService } from '../../src/index.js';
import { useEmulator } from '../support/emulator.js';
import { useTestApp } from '../support/test-app.js';
import { CLIENT_CREDENTIALS_GRANT, daemonToken, get, leakedValues, userToken } from './support/http-calls.js';
import { ADAPTERS, DOWNSTREAM_DEFAULT, middleTierOptions, startTestApp } from './support/test-app.js';

/** The access-token lifetime the emulator is pinned to here (its default is random), and the library's default refresh margin. */
const TOKEN_LIFETIME_SEC = 3600;
const REFRESH_MARGIN_SEC = 300;

describe.each(ADAPTERS)('@AppToken (client credentials) over HTTP on %s', (adapter) => {
  const entra = useEmulator({ tokenLifetimes: { accessTokenSec: TOKEN_LIFETIME_SEC } });
  // A new app per test: each starts from a cold token cache.
  const api = useTestApp(adapter, entra, { overrides: { timeoutMs: 20_000 }, per: 'test' });

  function clientCredentialRequests(tenant?: string): number {
    return entra.tokenRequests({ grantType: CLIENT_CREDENTIALS_GRANT, ...(tenant ? { tenant } : {}) }).length;
  }

  /** A daemon's call to `/app`, with a token minted now (on the emulator's clock, which tests move). */
  async function callAsDaemon() {
    return get(api.url, '/app', await daemonToken(entra));
  }

  it("gets a token with the API's app roles for a daemon caller, at the configured tenant", async () => {
    const { apps, tenants } = entra.defaults;
    const before = entra.tokenRequests({ grantType: CLIENT_CREDENTIALS_GRANT }).length;

    const answer = await callAsDaemon();

    expect(answer.status).toBe(200);
    // idtyp is an optional claim the downstream API did not configure.
    expect(answer.json).toEqual({ fromCache: false, roles: ['Directory.Read.All'] });
    const requests = entra.tokenRequests({ grantType: CLIENT_CREDENTIALS_GRANT }).slice(before);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ tenant: tenants.primary.id, clientId: apps.middleTierApi.app.clientId, scope: expect.stringContaining(DOWNSTREAM_DEFAULT) });
  });

  it('serves the second call from the cache, whoever the caller is', async () => {
    expect((await callAsDaemon()).json).toMatchObject({ fromCache: false });
    const before = clientCredentialRequests();

    // Another incoming token (another daemon call): the app token belongs to this API, not to the caller.
    const second = await callAsDaemon();

    expect(second.status).toBe(200);
    expect(second.json).toMatchObject({ fromCache: true, roles: ['Directory.Read.All'] });
    expect(clientCredentialRequests()).toBe(before);
  });

  // A hit after half the token's life renews it in the background instead (test/e2e/ops-refresh-ahead.e2e.spec.ts);
  // here the token is not used after that point, so the margin is what ends it.
  it('keeps serving the cached token until the refresh margin, then fetches a new one before the old expires', async () => {
    expect((await callAsDaemon()).json).toMatchObject({ fromCache: false });
    const before = clientCredentialRequests();

    entra.clock.advanceSec(TOKEN_LIFETIME_SEC / 2 - 60);
    expect((await callAsDaemon()).json).toMatchObject({ fromCache: true });
    expect(clientCredentialRequests()).toBe(before);

    entra.clock.advanceSec(TOKEN_LIFETIME_SEC / 2 - REFRESH_MARGIN_SEC + 90);
    const refreshed = await callAsDaemon();
    expect(refreshed.status).toBe(200);
    expect(refreshed.json).toMatchObject({ fromCache: false });
    expect(clientCredentialRequests()).toBe(before + 1);
  });

  it('caches the refreshed token again (its expiry is reckoned on the configured clock)', async () => {
    await callAsDaemon();
    entra.clock.advanceSec(TOKEN_LIFETIME_SEC - REFRESH_MARGIN_SEC + 30);
    expect((await callAsDaemon()).json).toMatchObject({ fromCache: false });
    const before = clientCredentialRequests();

    const next = await callAsDaemon();

    expect(next.json).toMatchObject({ fromCache: true });
    expect(clientCredentialRequests()).toBe(before);
  });

  it('makes one client-credentials request for 50 concurrent calls on a cold cache', async () => {
    // Load the signing keys first (a call that verifies a token but takes no app token), so this test measures the
    // app-token cache alone; a cold verifier under concurrency has its own test below.
    expect((await get(api.url, '/me', await userToken(entra, entra.defaults.users.member))).status).toBe(200);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => daemonToken(entra)));
    const before = clientCredentialRequests();

    const answers = await Promise.all(tokens.map((token) => get(api.url, '/app', token)));

    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));
    expect(clientCredentialRequests() - before).toBe(1);
  });

  it('accepts every one of 50 concurrent daemon calls on a cold start (none refused while the signing keys load)', async () => {
    const tokens = await Promise.all(Array.from({ length: 50 }, () => daemonToken(entra)));

    const answers = await Promise.all(tokens.map((token) => get(api.url, '/app', token)));

    const refused = answers.filter((answer) => answer.status !== 200).map((answer) => `${answer.status} ${answer.text}`);
    expect(refused).toEqual([]);
  });

  it('caches per tenant: a multi-tenant API gets each allowed tenant its own request at that tenant, then both are cached', async () => {
    const { tenants } = entra.defaults;
    const multiTenant = await startTestApp(adapter, middleTierOptions(entra, { tenantId: 'organizations', allowedTenants: [tenants.primary.id, tenants.secondary.id], timeoutMs: 20_000 }));
    try {
      const tokens = multiTenant.app.get(TokenAcquisitionService);
      const atPrimary = clientCredentialRequests(tenants.primary.id);
      const atSecondary = clientCredentialRequests(tenants.secondary.id);

      const primary = await tokens.acquireTokenForApp(DOWNSTREAM_DEFAULT, { tenantId: tenants.primary.id });
      const secondary = await tokens.acquireTokenForApp([DOWNSTREAM_DEFAULT], { tenantId: tenants.secondary.id });

      expect([primary.fromCache, secondary.fromCache]).toEqual([false, false]);
      expect(decodeJwt(primary.accessToken).tid).toBe(tenants.primary.id);
      expect(decodeJwt(secondary.accessToken).tid).toBe(tenants.secondary.id);
      expect(clientCredentialRequests(tenants.primary.id)).toBe(atPrimary + 1);
      expect(clientCredentialRequests(tenants.secondary.id)).toBe(atSecondary + 1);

      const again = await Promise.all([tokens.acquireTokenForApp([DOWNSTREAM_DEFAULT], { tenantId: tenants.primary.id }), tokens.acquireTokenForApp(DOWNSTREAM_DEFAULT, { tenantId: tenants.secondary.id })]);
      expect(again.map((token) => token.fromCache)).toEqual([true, true]);
      expect(again.map((token) => token.accessToken)).toEqual([primary.accessToken, secondary.accessToken]);
      expect(clientCredentialRequests()).toBe(atPrimary + atSecondary + 2);
    } finally {
      await multiTenant.app.close();
    }
  });

  it('a single-tenant API gets app tokens in its own tenant only: another tenant, or a path in the tenant id, makes no request', async () => {
    const { tenants } = entra.defaults;
    const tokens = api.app.get(TokenAcquisitionService);
    const before = clientCredentialRequests();
    for (const tenantId of [tenants.secondary.id, `x/../${tenants.primary.id}`, `${tenants.primary.id}?p=1`, 'common']) {
      await expect(tokens.acquireTokenForApp(DOWNSTREAM_DEFAULT, { tenantId })).rejects.toThrow(TypeError);
    }
    expect(clientCredentialRequests()).toBe(before);
    await expect(tokens.acquireTokenForApp(DOWNSTREAM_DEFAULT, { tenantId: tenants.primary.id })).resolves.toMatchObject({ fromCache: false });
  });

  it("passes a 429's Retry-After on as 503 and caches nothing", async () => {
    entra.faults.inject({ type: 'throttle', retryAfterSec: 9 }, { grantType: CLIENT_CREDENTIALS_GRANT });
    const before = clientCredentialRequests();

    const throttled = await callAsDaemon();

    expect(throttled.status).toBe(503);
    expect(throttled.headers.get('retry-after')).toBe('9');
    expect(leakedValues(throttled, { secret: entra.defaults.apps.middleTierApi.clientSecret })).toEqual([]);
    // Entra is not asked again before the Retry-After has passed (the throttling tests cover the wait itself).
    entra.clock.advanceSec(10);
    const next = await callAsDaemon();
    expect(next.status).toBe(200);
    expect(next.json).toMatchObject({ fromCache: false });
    expect(clientCredentialRequests() - before).toBe(2);
  });
});
