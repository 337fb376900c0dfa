import { randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { TokenAcquisitionService } from '../../src/index.js';
import { RedisTokenCache } from '../../src/redis/index.js';
import { startEntraEmulator, type EntraEmulator } from '../../src/testing/index.js';
import { DOWNSTREAM_DEFAULT, middleTierOptions, startTestApp } from '../e2e/support/test-app.js';
import { describeWithRedis, flushPrefix, REDIS_URL, uniquePrefix } from './support/redis.js';

/**
 * Two different APIs (two client ids) on one Redis, with the same prefix and the same encryption key: the deployment
 * where, before cache keys named the client, API B was served API A's app token and Entra never saw B's request.
 */
describeWithRedis('two APIs sharing one Redis, one prefix and one encryption key', () => {
  let entra: EntraEmulator;
  const prefix = uniquePrefix('shared-by-two-apis');
  const encryptionKeys = [randomBytes(32).toString('base64')];
  const caches: RedisTokenCache[] = [];

  beforeAll(async () => {
    entra = await startEntraEmulator();
  });
  afterAll(async () => {
    for (const cache of caches) await cache.close();
    await entra?.close();
    await flushPrefix(prefix);
  });

  async function startApi(clientId: string, clientSecret: string) {
    const cache = new RedisTokenCache({ connection: REDIS_URL, encryptionKeys, keyPrefix: prefix, operationTimeoutMs: 2000 });
    caches.push(cache);
    return startTestApp('express', middleTierOptions(entra, { clientId, credential: { clientSecret }, cache }));
  }

  it("never serves one API's app token to the other: each gets its own, from Entra", async () => {
    const { apps, tenants } = entra.defaults;
    const other = entra.directory.addApp({ tenantId: tenants.primary.id, displayName: 'Reports API' });
    const otherSecret = entra.directory.addSecret(other.clientId);
    entra.directory.grantAppPermission(other.clientId, apps.downstreamApi.app.clientId, ['Directory.Read.All']);
    const first = await startApi(apps.middleTierApi.app.clientId, apps.middleTierApi.clientSecret);
    const second = await startApi(other.clientId, otherSecret);
    try {
      const before = entra.tokenRequests({ grantType: 'client_credentials' }).length;
      const tokenOfFirst = await first.app.get(TokenAcquisitionService).acquireTokenForApp(DOWNSTREAM_DEFAULT);
      const tokenOfSecond = await second.app.get(TokenAcquisitionService).acquireTokenForApp(DOWNSTREAM_DEFAULT);

      expect(tokenOfSecond.fromCache).toBe(false);
      expect(decodeJwt(tokenOfFirst.accessToken).azp).toBe(apps.middleTierApi.app.clientId);
      expect(decodeJwt(tokenOfSecond.accessToken).azp).toBe(other.clientId);
      expect(entra.tokenRequests({ grantType: 'client_credentials' }).slice(before).map((request) => request.clientId)).toEqual([apps.middleTierApi.app.clientId, other.clientId]);
      // Each is then served from the shared Redis to its own API only.
      expect(await second.app.get(TokenAcquisitionService).acquireTokenForApp(DOWNSTREAM_DEFAULT)).toMatchObject({ fromCache: true, accessToken: tokenOfSecond.accessToken });
    } finally {
      await first.app.close();
      await second.app.close();
    }
  });
});
