import { decodeJwt } from 'jose';
import { AccessTokenVerifier, OboError, TokenAcquisitionService, type EntraPrincipal } from '../../src/index.js';
import type { EmulatorUser } from '../../src/testing/index.js';
import { useEmulator } from '../support/emulator.js';
import { useTestApp } from '../support/test-app.js';
import { JWT_BEARER_GRANT, daemonToken, get, userToken } from './support/http-calls.js';
import { ADAPTERS, DOWNSTREAM_DEFAULT, DOWNSTREAM_READ } from './support/test-app.js';

/** The code of an `OboError` a promise rejects with (or a description of what else happened), for one-line asserts. */
async function failureCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return error instanceof OboError ? error.code : `not an OboError: ${error instanceof Error ? error.name : typeof error}`;
  }
}

describe.each(ADAPTERS)('TokenAcquisitionService in an app on %s', (adapter) => {
  const entra = useEmulator();
  const api = useTestApp(adapter, entra, { overrides: { timeoutMs: 20_000 } });
  let tokens: TokenAcquisitionService;
  let verifier: AccessTokenVerifier;

  beforeAll(() => {
    tokens = api.app.get(TokenAcquisitionService);
    verifier = api.app.get(AccessTokenVerifier);
  });

  function oboRequestCount(): number {
    return entra.tokenRequests({ grantType: JWT_BEARER_GRANT }).length;
  }

  /** A user of their own per test, so no test finds another's cached tokens. */
  function freshUser(name: string): EmulatorUser {
    return entra.directory.addUser({ tenantId: entra.defaults.tenants.primary.id, username: name });
  }

  it('exchanges a raw access token (validating it first), then serves it from the cache', async () => {
    const user = freshUser('raw');
    const token = await userToken(entra, user);
    const before = oboRequestCount();

    const first = await tokens.acquireTokenOnBehalfOf(token, DOWNSTREAM_READ);
    const second = await tokens.acquireTokenOnBehalfOf(token, [DOWNSTREAM_READ]);

    expect(first.fromCache).toBe(false);
    expect(decodeJwt(first.accessToken)).toMatchObject({ oid: user.id, tid: user.tenantId, aud: entra.defaults.apps.downstreamApi.app.clientId });
    expect(first.tenantId).toBe(user.tenantId);
    expect(first.expiresOn.getTime()).toBeGreaterThan(entra.clock.nowMs());
    expect(second).toEqual({ ...first, fromCache: true });
    expect(oboRequestCount() - before).toBe(1);
  });

  it('refuses a raw token that does not validate, without asking Entra', async () => {
    const before = oboRequestCount();
    const expired = await userToken(entra, freshUser('expired'), { lifetimeSec: 60 });
    entra.clock.advanceSec(3600);

    expect(await failureCode(tokens.acquireTokenOnBehalfOf(expired, DOWNSTREAM_READ))).toBe('invalid_token');
    expect(await failureCode(tokens.acquireTokenOnBehalfOf('not-a-jwt', DOWNSTREAM_READ))).toBe('invalid_token');
    expect(oboRequestCount()).toBe(before);
  });

  it('exchanges for a validated principal, sharing the cache with the raw token it came from', async () => {
    const user = freshUser('principal');
    const token = await userToken(entra, user);
    const principal = await verifier.verify(token);
    const before = oboRequestCount();

    const fromPrincipal = await tokens.acquireTokenOnBehalfOf(principal, DOWNSTREAM_READ);
    const fromRaw = await tokens.acquireTokenOnBehalfOf(token, DOWNSTREAM_READ);

    expect(fromPrincipal.fromCache).toBe(false);
    expect(decodeJwt(fromPrincipal.accessToken).oid).toBe(user.id);
    expect(fromRaw).toEqual({ ...fromPrincipal, fromCache: true });
    expect(oboRequestCount() - before).toBe(1);
  });

  it('refuses a principal without its token, and an app-only caller', async () => {
    const principal = await verifier.verify(await userToken(entra, freshUser('copied')));
    // A copy keeps every visible field but not the token behind it: nothing to exchange.
    const copy: EntraPrincipal = { ...principal };
    await expect(tokens.acquireTokenOnBehalfOf(copy, DOWNSTREAM_READ)).rejects.toThrow(TypeError);

    const appOnly = await daemonToken(entra);
    expect(await failureCode(tokens.acquireTokenOnBehalfOf(appOnly, DOWNSTREAM_READ))).toBe('app_only_token');
    expect(await failureCode(tokens.acquireTokenOnBehalfOf(await verifier.verify(appOnly), DOWNSTREAM_READ))).toBe('app_only_token');
  });

  it("removeUser evicts only that user's entries: their next call exchanges again, another user's stays cached", async () => {
    const evicted = freshUser('evicted');
    const kept = freshUser('kept');
    // Two sessions of the evicted user (two incoming tokens, two cache entries) and one of the other user.
    const [evictedA, evictedB, keptToken] = await Promise.all([userToken(entra, evicted), userToken(entra, evicted), userToken(entra, kept)]);
    for (const token of [evictedA, evictedB, keptToken]) expect((await get(api.url, '/downstream', token)).json).toMatchObject({ fromCache: false });
    // A hit each: the route's hit path now holds these entries, and must let go of the evicted ones.
    for (const token of [evictedA, evictedB, keptToken]) expect((await get(api.url, '/downstream', token)).json).toMatchObject({ fromCache: true });
    const appToken = await tokens.acquireTokenForApp(DOWNSTREAM_DEFAULT);
    const before = oboRequestCount();

    await tokens.removeUser(evicted.tenantId, evicted.id);

    expect((await get(api.url, '/downstream', keptToken)).json).toMatchObject({ fromCache: true, oid: kept.id });
    expect(oboRequestCount()).toBe(before);
    expect((await tokens.acquireTokenForApp(DOWNSTREAM_DEFAULT)).accessToken).toBe(appToken.accessToken);
    for (const token of [evictedA, evictedB]) expect((await get(api.url, '/downstream', token)).json).toMatchObject({ fromCache: false, oid: evicted.id });
    expect(oboRequestCount() - before).toBe(2);
  });

  it('removeUser of the same object id in another tenant evicts nothing', async () => {
    const user = freshUser('othertenant');
    const token = await userToken(entra, user);
    await tokens.acquireTokenOnBehalfOf(token, DOWNSTREAM_READ);

    await tokens.removeUser(entra.defaults.tenants.secondary.id, user.id);

    expect((await tokens.acquireTokenOnBehalfOf(token, DOWNSTREAM_READ)).fromCache).toBe(true);
  });

  it('reckons expiry on the configured clock: after the clock moved on, a new token is still reported valid and cached', async () => {
    // Two hours on: longer than the downstream token lives, so an expiry reckoned on another clock would look past.
    entra.clock.advanceSec(2 * 3600);
    const user = freshUser('later');
    const token = await userToken(entra, user);

    const first = await tokens.acquireTokenOnBehalfOf(token, DOWNSTREAM_READ);
    const second = await tokens.acquireTokenOnBehalfOf(token, DOWNSTREAM_READ);

    expect(first.fromCache).toBe(false);
    expect(first.expiresOn.getTime()).toBeGreaterThan(entra.clock.nowMs());
    expect(second.fromCache).toBe(true);
  });

  it("does not serve a cached token past the expiry of the user's own token", async () => {
    const user = freshUser('shortlived');
    // The user's token lives 10 minutes; the downstream token an hour.
    const token = await userToken(entra, user, { lifetimeSec: 600 });
    const principal = await verifier.verify(token);
    const userExpiryMs = Number(decodeJwt(token).exp) * 1000;
    const first = await tokens.acquireTokenOnBehalfOf(principal, DOWNSTREAM_READ);
    expect(first.fromCache).toBe(false);
    expect(first.expiresOn.getTime()).toBeGreaterThan(userExpiryMs);

    entra.clock.advanceMs(userExpiryMs - entra.clock.nowMs() - 5_000);
    expect((await tokens.acquireTokenOnBehalfOf(principal, DOWNSTREAM_READ)).fromCache).toBe(true);

    entra.clock.advanceSec(10);
    const before = oboRequestCount();
    // The cache no longer has it, so Entra is asked, and refuses the expired assertion.
    expect(await failureCode(tokens.acquireTokenOnBehalfOf(principal, DOWNSTREAM_READ))).toBe('invalid_grant');
    expect(oboRequestCount() - before).toBe(1);
  });
});
