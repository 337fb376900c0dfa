import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { RedisTokenCache } from '../../src/redis/index.js';
import { startEntraEmulator, type EntraEmulator } from '../../src/testing/index.js';
import { middleTierOptions, startTestApp } from '../e2e/support/test-app.js';
import { describeWithRedis, flushPrefix, OwnRedisServer, REDIS_URL, uniquePrefix } from './support/redis.js';

const OBO_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ENCRYPTION_KEY = randomBytes(32).toString('base64');

interface Instance {
  app: INestApplication;
  url: string;
  cache: RedisTokenCache;
}

async function startInstance(entra: EntraEmulator, redisUrl: string, keyPrefix: string, tuning: { breakerOpenDurationMs?: number } = {}): Promise<Instance> {
  const cache = new RedisTokenCache({ connection: redisUrl, encryptionKeys: [ENCRYPTION_KEY], keyPrefix, operationTimeoutMs: 200, ...tuning });
  const { app, url } = await startTestApp('express', middleTierOptions(entra, { cache }));
  return { app, url, cache };
}

async function stopInstance(instance: Instance | undefined): Promise<void> {
  await instance?.app.close();
  await instance?.cache.close();
}

async function newUserToken(entra: EntraEmulator, name: string): Promise<string> {
  const user = entra.directory.addUser({ tenantId: entra.defaults.tenants.primary.id, username: `${name}-${randomBytes(4).toString('hex')}` });
  return entra.issueAccessToken({ user, client: entra.defaults.apps.webApp.app, resource: entra.defaults.apps.middleTierApi.app, scopes: ['access_as_user'] });
}

function callDownstream(instance: Instance, token: string): Promise<Response> {
  return fetch(`${instance.url}/downstream`, { headers: { authorization: `Bearer ${token}` } });
}

describeWithRedis('two API instances sharing one Redis', () => {
  let entra: EntraEmulator;
  let first: Instance;
  let second: Instance;
  const prefix = uniquePrefix('two-instances');

  beforeAll(async () => {
    entra = await startEntraEmulator();
    first = await startInstance(entra, REDIS_URL, prefix);
    second = await startInstance(entra, REDIS_URL, prefix);
  });
  afterAll(async () => {
    await stopInstance(first);
    await stopInstance(second);
    await entra?.close();
    await flushPrefix(prefix);
  });

  it("serves a user's exchange on instance A as a cache hit on instance B", async () => {
    const token = await newUserToken(entra, 'shared');
    expect((await callDownstream(first, token)).status).toBe(200);
    const exchanges = entra.tokenRequests({ grantType: OBO_GRANT }).length;
    const onSecond = await callDownstream(second, token);
    expect(onSecond.status).toBe(200);
    expect(await onSecond.json()).toMatchObject({ fromCache: true });
    expect(entra.tokenRequests({ grantType: OBO_GRANT }).length).toBe(exchanges);
    expect(second.cache.stats.l2Hits).toBeGreaterThanOrEqual(1);
  });

  it('makes one exchange for 2 instances x 50 concurrent cold requests of one user', async () => {
    const token = await newUserToken(entra, 'burst');
    const before = entra.tokenRequests({ grantType: OBO_GRANT }).length;
    const responses = await Promise.all(Array.from({ length: 100 }, (_, index) => callDownstream(index % 2 === 0 ? first : second, token)));
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200));
    expect(entra.tokenRequests({ grantType: OBO_GRANT }).length - before).toBe(1);
  });
});

describeWithRedis(
  'an API instance whose Redis stops and comes back',
  () => {
    let entra: EntraEmulator;
    let server: OwnRedisServer;
    let first: Instance;
    let second: Instance;
    const prefix = uniquePrefix('outage');

    beforeAll(async () => {
      entra = await startEntraEmulator();
      server = await OwnRedisServer.start();
      first = await startInstance(entra, server.url, prefix, { breakerOpenDurationMs: 300 });
      second = await startInstance(entra, server.url, prefix, { breakerOpenDurationMs: 300 });
    });
    afterAll(async () => {
      await stopInstance(first);
      await stopInstance(second);
      await server?.stop();
      await entra?.close();
    });

    it('keeps answering 200 while Redis is down, then shares tokens again', async () => {
      const known = await newUserToken(entra, 'known');
      expect((await callDownstream(first, known)).status).toBe(200);

      await server.stop();
      const statuses: number[] = [];
      for (let index = 0; index < 10; index += 1) {
        statuses.push((await callDownstream(first, known)).status, (await callDownstream(second, await newUserToken(entra, `down${index}`))).status);
      }
      expect(statuses).toEqual(Array(20).fill(200));
      expect(second.cache.stats.breakerState).toBe('open');

      await server.resume();
      let shared = false;
      for (let attempt = 0; attempt < 50 && !shared; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const token = await newUserToken(entra, `after${attempt}`);
        expect((await callDownstream(first, token)).status).toBe(200);
        const exchanges = entra.tokenRequests({ grantType: OBO_GRANT }).length;
        expect((await callDownstream(second, token)).status).toBe(200);
        shared = entra.tokenRequests({ grantType: OBO_GRANT }).length === exchanges;
      }
      expect(shared).toBe(true);
    });
  },
  { ownServer: true },
);
