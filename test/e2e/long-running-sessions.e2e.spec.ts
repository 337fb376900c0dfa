import { Controller, Delete, Get, Module, Param, Post, UseGuards, type INestApplication } from '@nestjs/common';
import { decodeJwt } from 'jose';
import { CurrentUser, InvalidGrantError, LongRunningSessionStore, OboAuthGuard, OboModule, Public, TokenAcquisitionService, type AcquiredToken, type EntraPrincipal } from '../../src/index.js';
import type { EmulatorUser } from '../../src/testing/index.js';
import { JWT_BEARER_GRANT } from './support/http-calls.js';
import { startNestApp } from './support/nest-app.js';
import { ADAPTERS, DOWNSTREAM_READ, middleTierOptions } from './support/test-app.js';
import { useEmulator, userToken } from '../support/emulator.js';

// msal-node adds `openid profile offline_access` to every On-Behalf-Of request (msal-common
// src/request/RequestParameterBuilder.ts, `addScopes`: OIDC_DEFAULT_SCOPES unless told otherwise), so Entra returns a
// refresh token; that token then serves the refresh-token grant hours after the user's own token expired
// (https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-on-behalf-of-flow, "Refresh token" and
// https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens: web API refresh tokens live 90 days).
const REFRESH_TOKEN_GRANT = 'refresh_token';
const LIFETIME_SEC = 7200;
const IDLE_TIMEOUT_SEC = 4 * 3600;

/** Tokens as a test reads them: never the token itself in an assertion message. */
function describeToken(token: AcquiredToken) {
  const claims = decodeJwt(token.accessToken);
  return { fromCache: token.fromCache, oid: claims.oid, aud: claims.aud, uti: claims.uti, expSec: claims.exp };
}

@Controller('jobs')
class JobsController {
  constructor(private readonly tokens: TokenAcquisitionService) {}

  /** The request that starts the job, while the user is signed in. */
  @Post()
  @UseGuards(OboAuthGuard)
  async start(@CurrentUser() user: EntraPrincipal) {
    const { sessionKey, token } = await this.tokens.startLongRunningSession(user, DOWNSTREAM_READ);
    return { sessionKey, token: describeToken(token) };
  }

  /** What the job calls later, with no user token at all: only the session key. */
  @Get(':sessionKey/token')
  @Public()
  async token(@Param('sessionKey') sessionKey: string) {
    return describeToken(await this.tokens.acquireTokenInLongRunningSession(sessionKey, DOWNSTREAM_READ));
  }

  @Delete(':sessionKey')
  @Public()
  async end(@Param('sessionKey') sessionKey: string) {
    await this.tokens.endLongRunningSession(sessionKey);
    return { ended: true };
  }
}

describe.each(ADAPTERS)('long-running On-Behalf-Of sessions on %s', (adapter) => {
  const entra = useEmulator({ tokenLifetimes: { accessTokenSec: LIFETIME_SEC } });
  let app: INestApplication;
  let url: string;
  let user: EmulatorUser;

  beforeEach(async () => {
    @Module({ imports: [OboModule.forRoot(middleTierOptions(entra, { timeoutMs: 20_000, longRunningSessions: { idleTimeoutSec: IDLE_TIMEOUT_SEC } }))], controllers: [JobsController] })
    class LongRunningModule {}
    ({ app, url } = await startNestApp(LongRunningModule, adapter));
    user = entra.directory.addUser({ tenantId: entra.defaults.tenants.primary.id, username: `job-owner-${Math.random().toString(36).slice(2, 8)}` });
  });
  afterEach(async () => {
    await app?.close();
  });

  const service = () => app.get(TokenAcquisitionService);
  const start = async () => {
    const response = await fetch(`${url}/jobs`, { method: 'POST', headers: { authorization: `Bearer ${await userToken(entra, user)}` } });
    expect(response.status).toBe(201);
    return (await response.json()) as { sessionKey: string; token: ReturnType<typeof describeToken> };
  };
  const tokenIn = (sessionKey: string) => fetch(`${url}/jobs/${sessionKey}/token`);
  const refreshGrants = () => entra.tokenRequests({ grantType: REFRESH_TOKEN_GRANT });

  it('gets a valid token 3 hours later, long after the user token expired, through the refresh-token grant', async () => {
    const userAccessToken = await userToken(entra, user);
    const started = await start();
    expect(started.token).toMatchObject({ fromCache: false, oid: user.id });
    expect(entra.tokenRequests({ grantType: JWT_BEARER_GRANT })).toHaveLength(1);

    entra.clock.advanceSec(3 * 3600);
    // The user's own token is dead: the guard refuses it, and so would an On-Behalf-Of exchange.
    expect((await fetch(`${url}/jobs`, { method: 'POST', headers: { authorization: `Bearer ${userAccessToken}` } })).status).toBe(401);

    const later = await tokenIn(started.sessionKey);
    expect(later.status).toBe(200);
    const token = (await later.json()) as ReturnType<typeof describeToken>;
    expect(token).toMatchObject({ fromCache: false, oid: user.id, aud: started.token.aud });
    expect(token.uti).not.toBe(started.token.uti);
    expect((token.expSec as number) * 1000).toBeGreaterThan(entra.clock.nowMs());
    expect(refreshGrants()).toHaveLength(1);

    // Served from the session's cache entry now, without Entra.
    expect(await (await tokenIn(started.sessionKey)).json()).toMatchObject({ fromCache: true, uti: token.uti });
    expect(refreshGrants()).toHaveLength(1);
  });

  it('keeps the refresh token Entra returns: a second refresh, hours after the first, works too', async () => {
    const { sessionKey } = await start();
    const store = app.get(LongRunningSessionStore, { strict: false });
    const refreshTokenNow = async () => (await store.get(sessionKey))!.refreshToken;
    const fromStart = await refreshTokenNow();
    entra.clock.advanceSec(3 * 3600);
    expect((await tokenIn(sessionKey)).status).toBe(200);
    const fromFirstRefresh = await refreshTokenNow();
    expect(fromFirstRefresh).not.toBe(fromStart);
    entra.clock.advanceSec(3 * 3600);
    expect((await tokenIn(sessionKey)).status).toBe(200);
    expect(await refreshTokenNow()).not.toBe(fromFirstRefresh);
    expect(refreshGrants()).toHaveLength(2);
  });

  it('is refused after the user’s sessions were revoked: InvalidGrantError (401 invalid_token over HTTP)', async () => {
    const { sessionKey } = await start();
    entra.revokeUserSessions(user);
    entra.clock.advanceSec(3 * 3600);
    const answer = await tokenIn(sessionKey);
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ error: 'invalid_token' });
    const refused = await service().acquireTokenInLongRunningSession(sessionKey, DOWNSTREAM_READ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(InvalidGrantError);
    expect((refused as InvalidGrantError).message).toMatch(/AADSTS50173/);
    expect((refused as InvalidGrantError).message).not.toContain(sessionKey);
  });

  it('is refused at once after endLongRunningSession, even while its token is cached', async () => {
    const { sessionKey } = await start();
    expect(await (await tokenIn(sessionKey)).json()).toMatchObject({ fromCache: true });
    expect(await (await fetch(`${url}/jobs/${sessionKey}`, { method: 'DELETE' })).json()).toEqual({ ended: true });
    expect((await tokenIn(sessionKey)).status).toBe(401);
    await expect(service().acquireTokenInLongRunningSession(sessionKey, DOWNSTREAM_READ)).rejects.toThrow(/unknown, ended, idle past its limit or evicted/);
  });

  it('expires after the idle limit without a refresh', async () => {
    const { sessionKey } = await start();
    entra.clock.advanceSec(IDLE_TIMEOUT_SEC + 60);
    expect((await tokenIn(sessionKey)).status).toBe(401);
    expect(refreshGrants()).toHaveLength(0);
  });

  it('a refresh restarts the idle limit', async () => {
    const { sessionKey } = await start();
    entra.clock.advanceSec(IDLE_TIMEOUT_SEC - 600);
    expect((await tokenIn(sessionKey)).status).toBe(200); // refreshes (the first token is gone by now)
    entra.clock.advanceSec(IDLE_TIMEOUT_SEC - 600);
    expect((await tokenIn(sessionKey)).status).toBe(200);
    expect(refreshGrants()).toHaveLength(2);
  });

  it('removeUser(tid, oid) ends that user’s sessions and evicts their tokens', async () => {
    const mine = await start();
    const other = entra.directory.addUser({ tenantId: entra.defaults.tenants.primary.id, username: `other-${Math.random().toString(36).slice(2, 8)}` });
    const theirs = await service().startLongRunningSession(await userToken(entra, other), DOWNSTREAM_READ);
    await service().removeUser(user.tenantId, user.id.toUpperCase());
    expect((await tokenIn(mine.sessionKey)).status).toBe(401);
    expect((await tokenIn(theirs.sessionKey)).status).toBe(200);
  });

  it('refresh-ahead: a steady caller sees no miss across its token’s expiry; the emulator logs the background refresh', async () => {
    const { sessionKey, token: first } = await start();
    entra.clock.advanceSec(LIFETIME_SEC * 0.4);
    expect(await (await tokenIn(sessionKey)).json()).toMatchObject({ fromCache: true, uti: first.uti });
    await service().renewalsSettled();
    expect(refreshGrants()).toHaveLength(0);

    entra.clock.advanceSec(LIFETIME_SEC * 0.2); // 60% of its life: due
    expect(await (await tokenIn(sessionKey)).json()).toMatchObject({ fromCache: true, uti: first.uti });
    await service().renewalsSettled();
    expect(refreshGrants()).toHaveLength(1);

    entra.clock.advanceSec(LIFETIME_SEC * 0.5); // past the first token's expiry
    const after = (await (await tokenIn(sessionKey)).json()) as ReturnType<typeof describeToken>;
    expect(after.fromCache).toBe(true);
    expect(after.uti).not.toBe(first.uti);
    expect(refreshGrants()).toHaveLength(1);
  });

  it('refuses what is not a session key, no scopes, and an app-only caller with clear errors', async () => {
    await expect(service().acquireTokenInLongRunningSession('not-a-key', DOWNSTREAM_READ)).rejects.toThrow(/sessionKey must be the key startLongRunningSession returned/);
    await expect(service().endLongRunningSession(42 as unknown as string)).rejects.toThrow(TypeError);
    const { sessionKey } = await start();
    await expect(service().acquireTokenInLongRunningSession(sessionKey, [])).rejects.toThrow(/acquireTokenInLongRunningSession: at least one scope is required/);
    await expect(service().startLongRunningSession(await userToken(entra, user), [])).rejects.toThrow(/startLongRunningSession: at least one scope is required/);
    const daemon = await entra.issueAccessToken({ client: entra.defaults.apps.daemon.app, resource: entra.defaults.apps.middleTierApi.app, roles: ['Tasks.Read.All'] });
    await expect(service().startLongRunningSession(daemon, DOWNSTREAM_READ)).rejects.toMatchObject({ code: 'app_only_token' });
    // A well-formed key nobody issued: unknown.
    await expect(service().acquireTokenInLongRunningSession('A'.repeat(43), DOWNSTREAM_READ)).rejects.toBeInstanceOf(InvalidGrantError);
  });

  it('the session key is 256 random bits that name no user', async () => {
    const { sessionKey } = await start();
    expect(sessionKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const decoded = Buffer.from(sessionKey, 'base64url');
    expect(decoded).toHaveLength(32);
    for (const identifier of [user.id, user.tenantId, user.username]) {
      expect(sessionKey.toLowerCase()).not.toContain(identifier.toLowerCase());
      expect(decoded.toString('latin1').toLowerCase()).not.toContain(identifier.toLowerCase());
    }
    expect((await start()).sessionKey).not.toBe(sessionKey);
  });
});
