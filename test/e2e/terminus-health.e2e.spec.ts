import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { RedisTokenCache } from '../../src/redis/index.js';
import { freePort } from '../support/free-port.js';
import { useEmulator } from '../support/emulator.js';
import { readiness, startHealthApp } from './support/terminus-health-app.js';
import { ADAPTERS, middleTierOptions } from './support/test-app.js';

// terminus 12.1's HealthIndicatorSession has up / degraded / down; HealthCheckService.check answers 503 when one
// indicator is down and 200 otherwise, with status 'degraded' when one is degraded
// (node_modules/@nestjs/terminus/dist/health-check/health-check-executor.service.js, getResult).

describe.each(ADAPTERS)('EntraHealthIndicator through a terminus readiness endpoint on %s', (adapter) => {
  const entra = useEmulator();
  let app: INestApplication | undefined;
  let cache: RedisTokenCache | undefined;

  afterEach(async () => {
    await app?.close();
    await cache?.close();
    app = undefined;
    cache = undefined;
  });

  const requestsTo = (endpoint: string) => entra.requests.filter((request) => request.endpoint === endpoint).length;

  it('is up once the keys are loaded, names the published key ids, and answers later probes without asking Entra', async () => {
    const started = await startHealthApp(adapter, middleTierOptions(entra));
    app = started.app;
    const first = await readiness(started.url);
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('ok');
    expect(first.body.details.entra).toMatchObject({
      status: 'up',
      authorityHost: new URL(entra.authorityHost).host,
      signingKeys: { loaded: true, keyIds: entra.signingKeyIds },
      cache: { backend: 'memory', available: true },
    });
    expect(first.body.details.entra.problems).toBeUndefined();

    const seen = entra.requests.length;
    for (let probe = 0; probe < 5; probe += 1) expect((await readiness(started.url)).status).toBe(200);
    expect(entra.requests.length).toBe(seen);
    expect(first.text).not.toContain(entra.defaults.apps.middleTierApi.clientSecret);
  });

  it('is down (503) while the JWKS cannot be fetched, probes do not hammer it, and it is up again after the backoff', async () => {
    entra.faults.inject({ type: 'server-error', status: 503 }, { endpoint: 'jwks' });
    const started = await startHealthApp(adapter, middleTierOptions(entra));
    app = started.app;
    const down = await readiness(started.url);
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('error');
    expect(down.body.error?.entra?.status).toBe('down');
    expect(down.body.details.entra).toMatchObject({ status: 'down', signingKeys: { loaded: false, keyIds: [], lastError: 'HTTP 503' } });
    expect(down.body.details.entra.problems).toEqual([expect.stringContaining('No signing keys loaded')]);

    // Probes during the backoff answer from what is known: the one failed fetch (the warm-up's) is all Entra saw.
    for (let probe = 0; probe < 5; probe += 1) expect((await readiness(started.url)).status).toBe(503);
    expect(requestsTo('jwks')).toBe(1);

    const { retryAfterSec } = down.body.details.entra.signingKeys as { retryAfterSec: number };
    entra.clock.advanceSec(retryAfterSec);
    const up = await readiness(started.url);
    expect(up.status).toBe(200);
    expect(up.body.details.entra).toMatchObject({ status: 'up', signingKeys: { loaded: true, keyIds: entra.signingKeyIds } });
    expect(requestsTo('jwks')).toBe(2);
  });

  it('is degraded (200) when the Redis cache does not answer: requests still go through memory and Entra', async () => {
    // A port nothing listens on: every Redis operation fails, as when Redis is down.
    cache = new RedisTokenCache({ connection: `redis://127.0.0.1:${await freePort()}`, encryptionKeys: [randomBytes(32).toString('base64')], operationTimeoutMs: 200, breakerFailureThreshold: 1, breakerOpenDurationMs: 600_000 });
    const started = await startHealthApp(adapter, middleTierOptions(entra, { cache }));
    app = started.app;
    const degraded = await readiness(started.url);
    expect(degraded.status).toBe(200);
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.details.entra).toMatchObject({ status: 'degraded', signingKeys: { loaded: true }, cache: { backend: 'redis', available: false, breaker: 'open' } });
    expect(degraded.body.details.entra.problems).toEqual(['The token cache store does not answer; tokens are served from memory and Entra']);

    // With the breaker open, a probe sends nothing to Redis: the operation is skipped, and it says so.
    const again = await readiness(started.url);
    expect(again.body.details.entra).toMatchObject({ status: 'degraded', cache: { breaker: 'open', skipped: 1 } });
  });
});
