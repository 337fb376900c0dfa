import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { decodeJwt } from 'jose';
import { Redis } from 'ioredis';
import { InvalidGrantError, LongRunningSessionStore, TokenAcquisitionService } from '../../src/index.js';
import { RedisTokenCache } from '../../src/redis/index.js';
import { startEntraEmulator, type EntraEmulator } from '../../src/testing/index.js';
import { DOWNSTREAM_READ, middleTierOptions, startTestApp } from '../e2e/support/test-app.js';
import { describeWithRedis, flushPrefix, REDIS_URL, uniquePrefix } from './support/redis.js';

// The refresh token a session keeps is a bearer credential for the user for up to 90 days
// (https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens): Redis must only ever hold it encrypted,
// under names that say nothing of the session key or the user.
const ENCRYPTION_KEY = randomBytes(32).toString('base64');
const REFRESH_TOKEN_GRANT = 'refresh_token';
const LIFETIME_SEC = 3600;

interface Instance {
  app: INestApplication;
  cache: RedisTokenCache;
  tokens: TokenAcquisitionService;
}

async function startInstance(entra: EntraEmulator, keyPrefix: string, maxSessions: number): Promise<Instance> {
  // A generous operation timeout, as the other two-instance suites use: a timeout on a loaded machine is not the test.
  const cache = new RedisTokenCache({ connection: REDIS_URL, encryptionKeys: [ENCRYPTION_KEY], keyPrefix, operationTimeoutMs: 2000, clock: entra.clock });
  const { app } = await startTestApp('express', middleTierOptions(entra, { cache, timeoutMs: 20_000, longRunningSessions: { maxSessions } }));
  return { app, cache, tokens: app.get(TokenAcquisitionService) };
}

async function rawEntries(prefix: string): Promise<{ key: string; stored: string }[]> {
  const client = new Redis(REDIS_URL);
  try {
    const found: { key: string; stored: string }[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const type = await client.type(key);
        const stored = type === 'set' ? (await client.smembers(key)).join(' ') : type === 'zset' ? (await client.zrange(key, '0', '-1')).join(' ') : ((await client.get(key)) ?? '');
        found.push({ key, stored });
      }
    } while (cursor !== '0');
    return found;
  } finally {
    client.disconnect();
  }
}

describeWithRedis('long-running sessions on two instances sharing one Redis', () => {
  const prefix = uniquePrefix('long-running');
  const MAX_SESSIONS = 3;
  let entra: EntraEmulator;
  let first: Instance;
  let second: Instance;

  beforeAll(async () => {
    // Refresh tokens as Entra issues them to a web API (90 days; the emulator's default is a day).
    entra = await startEntraEmulator({ tokenLifetimes: { accessTokenSec: LIFETIME_SEC, refreshTokenSec: 90 * 24 * 3600 } });
    first = await startInstance(entra, prefix, MAX_SESSIONS);
    second = await startInstance(entra, prefix, MAX_SESSIONS);
  });
  afterAll(async () => {
    await first?.app.close();
    await second?.app.close();
    await entra?.close();
    await flushPrefix(prefix);
  });

  const newUser = async (name: string) => {
    const user = entra.directory.addUser({ tenantId: entra.defaults.tenants.primary.id, username: `${name}-${randomBytes(4).toString('hex')}` });
    const token = await entra.issueAccessToken({ user, client: entra.defaults.apps.webApp.app, resource: entra.defaults.apps.middleTierApi.app, scopes: ['access_as_user'] });
    return { user, token };
  };

  it('starts on instance A and continues on instance B 3 hours later; A continues with the refresh token B stored', async () => {
    const { user, token } = await newUser('continue');
    const { sessionKey } = await first.tokens.startLongRunningSession(token, DOWNSTREAM_READ);
    entra.clock.advanceSec(3 * 3600);

    const before = entra.tokenRequests({ grantType: REFRESH_TOKEN_GRANT }).length;
    const onSecond = await second.tokens.acquireTokenInLongRunningSession(sessionKey, DOWNSTREAM_READ);
    expect(onSecond.fromCache).toBe(false);
    expect(decodeJwt(onSecond.accessToken).oid).toBe(user.id);
    expect(onSecond.expiresOn.getTime()).toBeGreaterThan(entra.clock.nowMs());
    expect(entra.tokenRequests({ grantType: REFRESH_TOKEN_GRANT }).length).toBe(before + 1);
    // B's token is in the shared cache: A is served it without Entra.
    expect(await first.tokens.acquireTokenInLongRunningSession(sessionKey, DOWNSTREAM_READ)).toMatchObject({ fromCache: true, accessToken: onSecond.accessToken });

    const store = (instance: Instance) => instance.app.get(LongRunningSessionStore, { strict: false });
    expect((await store(first).get(sessionKey))!.refreshToken).toBe((await store(second).get(sessionKey))!.refreshToken);
    entra.clock.advanceSec(3 * 3600);
    expect((await first.tokens.acquireTokenInLongRunningSession(sessionKey, DOWNSTREAM_READ)).fromCache).toBe(false);
  });

  it('is refused on every instance after revocation, after ending it on the other one, and after removeUser on the other one', async () => {
    const revoked = await newUser('revoked');
    const revokedSession = await first.tokens.startLongRunningSession(revoked.token, DOWNSTREAM_READ);
    entra.revokeUserSessions(revoked.user);
    const ended = await first.tokens.startLongRunningSession((await newUser('ended')).token, DOWNSTREAM_READ);
    const removed = await newUser('removed');
    const removedSession = await first.tokens.startLongRunningSession(removed.token, DOWNSTREAM_READ);
    entra.clock.advanceSec(3 * 3600);

    await expect(second.tokens.acquireTokenInLongRunningSession(revokedSession.sessionKey, DOWNSTREAM_READ)).rejects.toThrow(/AADSTS50173/);
    await second.tokens.endLongRunningSession(ended.sessionKey);
    await expect(first.tokens.acquireTokenInLongRunningSession(ended.sessionKey, DOWNSTREAM_READ)).rejects.toBeInstanceOf(InvalidGrantError);
    await second.tokens.removeUser(removed.user.tenantId, removed.user.id);
    await expect(first.tokens.acquireTokenInLongRunningSession(removedSession.sessionKey, DOWNSTREAM_READ)).rejects.toBeInstanceOf(InvalidGrantError);
  });

  it('keeps the refresh token only encrypted, under names that name neither the session key nor the user', async () => {
    const { user, token } = await newUser('at-rest');
    const { sessionKey } = await first.tokens.startLongRunningSession(token, DOWNSTREAM_READ);
    const refreshToken = (await first.app.get(LongRunningSessionStore, { strict: false }).get(sessionKey))!.refreshToken;
    expect(refreshToken.length).toBeGreaterThan(20);
    const entries = await rawEntries(prefix);
    const sessionNames = entries.filter(({ key }) => key.startsWith(`${prefix}v2:s:{sessions}:`) && !key.endsWith(':lru'));
    expect(sessionNames.length).toBeGreaterThanOrEqual(1);
    // Redis expires a session by itself after the idle limit (default: Entra's 90 days), even if no instance runs.
    const client = new Redis(REDIS_URL);
    try {
      for (const { key } of sessionNames) {
        const pttlMs = await client.pttl(key);
        expect(pttlMs).toBeGreaterThan(89 * 24 * 3600 * 1000);
        expect(pttlMs).toBeLessThanOrEqual(90 * 24 * 3600 * 1000);
      }
    } finally {
      client.disconnect();
    }
    for (const { key, stored } of entries) {
      for (const secret of [refreshToken, refreshToken.slice(2, 40), sessionKey, user.id, user.tenantId, user.username]) {
        expect(key).not.toContain(secret);
        expect(stored).not.toContain(secret);
      }
    }
  });

  it(`bounds sessions at maxSessions (${MAX_SESSIONS}): the least recently used goes, tokens of plain exchanges stay`, async () => {
    const plain = await newUser('plain');
    const plainToken = await first.tokens.acquireTokenOnBehalfOf(plain.token, DOWNSTREAM_READ);
    const sessions = [];
    for (let index = 0; index < MAX_SESSIONS; index += 1) sessions.push((await first.tokens.startLongRunningSession((await newUser(`bounded${index}`)).token, DOWNSTREAM_READ)).sessionKey);
    // The first is used again (most recent now), so the second is the least recently used when one more starts.
    await second.tokens.acquireTokenInLongRunningSession(sessions[0]!, DOWNSTREAM_READ);
    const newest = (await second.tokens.startLongRunningSession((await newUser('bounded-last')).token, DOWNSTREAM_READ)).sessionKey;

    await expect(first.tokens.acquireTokenInLongRunningSession(sessions[1]!, DOWNSTREAM_READ)).rejects.toBeInstanceOf(InvalidGrantError);
    for (const kept of [sessions[0]!, sessions[2]!, newest]) expect((await first.tokens.acquireTokenInLongRunningSession(kept, DOWNSTREAM_READ)).accessToken).toBeTruthy();
    // The token cache was not touched by the session bound.
    expect(await second.tokens.acquireTokenOnBehalfOf(plain.token, DOWNSTREAM_READ)).toMatchObject({ fromCache: true, accessToken: plainToken.accessToken });
  });

  // Last: it moves the shared clock by 90 days.
  it("expires a session idle past the limit (Entra's 90 days by default), judged by the module's clock on every instance", async () => {
    const { sessionKey } = await first.tokens.startLongRunningSession((await newUser('idle')).token, DOWNSTREAM_READ);
    entra.clock.advanceSec(89 * 24 * 3600);
    expect((await second.tokens.acquireTokenInLongRunningSession(sessionKey, DOWNSTREAM_READ)).fromCache).toBe(false); // a refresh restarts the count
    entra.clock.advanceSec(89 * 24 * 3600);
    expect((await first.tokens.acquireTokenInLongRunningSession(sessionKey, DOWNSTREAM_READ)).fromCache).toBe(false);
    entra.clock.advanceSec(90 * 24 * 3600 + 60);
    await expect(second.tokens.acquireTokenInLongRunningSession(sessionKey, DOWNSTREAM_READ)).rejects.toThrow(/unknown, ended, idle past its limit or evicted/);
  });
});
