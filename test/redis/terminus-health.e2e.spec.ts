import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { RedisTokenCache } from '../../src/redis/index.js';
import { useEmulator } from '../support/emulator.js';
import { readiness, startHealthApp } from '../e2e/support/terminus-health-app.js';
import { ADAPTERS, middleTierOptions } from '../e2e/support/test-app.js';
import { describeWithRedis, OwnRedisServer, uniquePrefix } from './support/redis.js';

/** Resolves once `condition` holds, checking every 50 ms for at most `limitMs` (a generous bound, not a timing). */
async function eventually(condition: () => Promise<boolean>, limitMs = 10_000): Promise<boolean> {
  for (const started = Date.now(); Date.now() - started < limitMs; await new Promise((resolve) => setTimeout(resolve, 50))) {
    if (await condition()) return true;
  }
  return false;
}

describeWithRedis(
  'EntraHealthIndicator with a RedisTokenCache whose Redis goes down and comes back',
  () => {
    const entra = useEmulator();
    // A redis-server of this suite's own: stopping it leaves the shared Redis to the other suites.
    let server: OwnRedisServer;
    let app: INestApplication | undefined;
    let cache: RedisTokenCache | undefined;
    let serverStopped = false;

    beforeAll(async () => {
      server = await OwnRedisServer.start();
    });
    afterEach(async () => {
      await app?.close();
      await cache?.close();
      app = undefined;
      cache = undefined;
      // A test that failed while its server was stopped: start it again for the next (never a second server).
      if (serverStopped) await server.resume();
      serverStopped = false;
    });
    afterAll(async () => {
      await server?.stop();
    });

    it.each(ADAPTERS)('on %s: up while Redis answers, degraded (still 200) while it is down, up again once it is back', async (adapter) => {
      const encryptionKey = randomBytes(32).toString('base64');
      // One failure opens the breaker; it probes again after 100 ms, so recovery is seen without waiting long.
      cache = new RedisTokenCache({ connection: server.url, encryptionKeys: [encryptionKey], keyPrefix: uniquePrefix('health'), operationTimeoutMs: 500, breakerFailureThreshold: 1, breakerOpenDurationMs: 100 });
      const started = await startHealthApp(adapter, middleTierOptions(entra, { cache }));
      app = started.app;

      const up = await readiness(started.url);
      expect(up.status).toBe(200);
      expect(up.body.status).toBe('ok');
      expect(up.body.details.entra).toMatchObject({ status: 'up', cache: { backend: 'redis', available: true, breaker: 'closed' } });

      await server.stop();
      serverStopped = true;
      const degraded = await readiness(started.url);
      expect(degraded.status).toBe(200);
      expect(degraded.body.status).toBe('degraded');
      expect(degraded.body.details.entra).toMatchObject({ status: 'degraded', signingKeys: { loaded: true }, cache: { backend: 'redis', available: false, breaker: 'open' } });
      expect(degraded.text).not.toContain(encryptionKey);

      await server.resume();
      serverStopped = false;
      // The breaker's next probe (a readiness PING once its open period has passed) finds Redis back and closes it.
      expect(await eventually(async () => (await readiness(started.url)).body.status === 'ok')).toBe(true);
      expect((await readiness(started.url)).body.details.entra).toMatchObject({ status: 'up', cache: { available: true, breaker: 'closed' } });
    });
  },
  { ownServer: true },
);
