// When Entra's discovery or key endpoints fail, hang or are misconfigured, the guard answers what is true: 503 with
// Retry-After while it cannot know (never 401, which makes clients throw good tokens away), 500 for our own
// configuration mistake, and it recovers within seconds once Entra answers again. Time moves on the emulator's clock.
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { OboModuleOptions } from '../../src/index.js';
import { useEmulator } from '../support/emulator.js';
import { GatedFetch } from './support/gated-fetch.js';
import { CapturingLogger, startCapturedApp } from './support/log-capture.js';
import { ADAPTERS, middleTierOptions, startTestApp } from './support/test-app.js';

const PERIODIC_REFRESH_PASSED_SEC = 12 * 3600 + 60;
/** The longest wait of the backoff after failed fetches: the 503's Retry-After never exceeds it. */
const MAX_BACKOFF_SEC = 30;

interface Answer {
  status: number;
  retryAfter: string | null;
  challenge: string | null;
  body: unknown;
}

async function call(baseUrl: string, token: string): Promise<Answer> {
  const response = await fetch(`${baseUrl}/me`, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, retryAfter: response.headers.get('retry-after'), challenge: response.headers.get('www-authenticate'), body: text ? (JSON.parse(text) as unknown) : undefined };
}

/** 503 `temporarily_unavailable` with a Retry-After of 1 to 30 s and no invalid_token challenge; returns the seconds. */
function expectUnavailable(answer: Answer): number {
  expect({ status: answer.status, challenge: answer.challenge, body: answer.body }).toEqual({
    status: 503,
    challenge: null,
    body: { statusCode: 503, error: 'temporarily_unavailable', message: 'The identity provider is unavailable; try again later.' },
  });
  const seconds = Number(answer.retryAfter);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(MAX_BACKOFF_SEC);
  return seconds;
}

/** Polls `check` until it holds, for a generous 10 s at most (background work; no timing is asserted). */
async function eventually(check: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe.each(ADAPTERS)('identity provider failures on %s', (adapter) => {
  // Reset after each test (its faults, clock and request counts); each test starts its own app.
  const entra = useEmulator();
  let app: INestApplication | undefined;
  const jwksFetches = () => entra.requests.filter((request) => request.endpoint === 'jwks').length;
  const userToken = (extra: { header?: Record<string, unknown> } = {}) => {
    const { apps, users } = entra.defaults;
    return entra.issueAccessToken({ user: users.member, client: apps.webApp.app, resource: apps.middleTierApi.app, scopes: ['access_as_user'], ...extra });
  };
  const start = async (overrides: Partial<OboModuleOptions> = {}) => {
    const started = await startTestApp(adapter, middleTierOptions(entra, overrides));
    app = started.app;
    return started.url;
  };

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers 503 with Retry-After (never 401) after a one-off JWKS failure at start-up, and recovers after the short backoff', async () => {
    entra.faults.inject({ type: 'server-error', status: 503 }, { endpoint: 'jwks' });
    const url = await start();
    const token = await userToken();
    const retryAfterSec = expectUnavailable(await call(url, token));
    expect(retryAfterSec).toBe(1);
    expect(jwksFetches()).toBe(1);

    entra.clock.advanceSec(retryAfterSec);
    expect((await call(url, token)).status).toBe(200);
    expect(jwksFetches()).toBe(2);
  });

  it('with warmUp: false fetches nothing at bootstrap, then answers a failed first fetch with 503, not 401', async () => {
    entra.faults.inject({ type: 'reset' }, { endpoint: 'jwks' });
    const url = await start({ warmUp: false });
    expect(entra.requests).toEqual([]);
    const token = await userToken();
    const retryAfterSec = expectUnavailable(await call(url, token));
    entra.clock.advanceSec(retryAfterSec);
    expect((await call(url, token)).status).toBe(200);
  });

  it('warms up in the background at bootstrap: the app listens while Entra hangs, and the first request uses the fetched keys', async () => {
    const gated = new GatedFetch(entra, 'jwks');
    gated.close();
    // startTestApp resolves only after bootstrap; a warm-up that delayed it would hang here until the test timeout.
    const url = await start({ fetch: gated.fetch });
    expect(await eventually(() => gated.held === 1)).toBe(true);
    expect(entra.requests.filter((request) => request.endpoint === 'discovery').length).toBeGreaterThanOrEqual(1);
    gated.release();
    expect(await eventually(() => jwksFetches() === 1)).toBe(true);
    expect((await call(url, await userToken())).status).toBe(200);
    expect(jwksFetches()).toBe(1);
  });

  it('accepts a key rotated in right after start-up at once (the start-up fetch starts no cooldown)', async () => {
    const url = await start();
    expect((await call(url, await userToken())).status).toBe(200);
    const fetchesBefore = jwksFetches();
    await entra.rotateSigningKeys();
    expect((await call(url, await userToken())).status).toBe(200);
    expect(jwksFetches()).toBe(fetchesBefore + 1);
  });

  it('never makes a token whose key is known wait for the periodic refresh, even while Entra hangs', async () => {
    const gated = new GatedFetch(entra, 'jwks');
    const url = await start({ fetch: gated.fetch });
    expect((await call(url, await userToken())).status).toBe(200);
    entra.clock.advanceSec(PERIODIC_REFRESH_PASSED_SEC);
    gated.close();
    // A fresh token (not remembered) with a known key: served from the last good keys while the refresh is held.
    expect((await call(url, await userToken())).status).toBe(200);
    expect(await eventually(() => gated.held === 1)).toBe(true);
    gated.release();
  });

  it('answers 503 for an unknown kid whose refresh failed, then finds the key once the backoff passes', async () => {
    const url = await start();
    expect((await call(url, await userToken())).status).toBe(200);
    await entra.rotateSigningKeys();
    entra.faults.inject({ type: 'server-error', status: 500 }, { endpoint: 'jwks' });
    const newKeyToken = await userToken();
    const retryAfterSec = expectUnavailable(await call(url, newKeyToken));
    entra.clock.advanceSec(retryAfterSec);
    expect((await call(url, newKeyToken)).status).toBe(200);
  });

  it('answers 503 after a failed discovery at start-up, and recovers after the short backoff', async () => {
    entra.faults.inject({ type: 'server-error', status: 502 }, { endpoint: 'discovery', times: 2 });
    const url = await start();
    const token = await userToken();
    // The v2 and v1 documents back off separately, so a client honouring Retry-After may be told to wait once more.
    let waitedSec = 0;
    let answer = await call(url, token);
    for (let round = 0; round < 3 && answer.status === 503; round += 1) {
      const retryAfterSec = expectUnavailable(answer);
      waitedSec += retryAfterSec;
      entra.clock.advanceSec(retryAfterSec);
      answer = await call(url, token);
    }
    expect(answer.status).toBe(200);
    expect(waitedSec).toBeGreaterThanOrEqual(1);
    expect(waitedSec).toBeLessThanOrEqual(3);
  });
});

describe.each(ADAPTERS)('deployment mistakes and diagnostics on %s', (adapter) => {
  const entra = useEmulator();
  let app: INestApplication | undefined;
  let logger: CapturingLogger;

  beforeEach(() => {
    logger = new CapturingLogger();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers an unknown tenant (discovery: invalid_tenant) with 500 and the generic body, logging it once as a configuration error', async () => {
    const unknownTenant = randomUUID();
    let url: string;
    ({ app, url } = await startCapturedApp(adapter, middleTierOptions(entra, { tenantId: unknownTenant }), logger, []));
    const { apps, users } = entra.defaults;
    const token = await entra.issueAccessToken({ user: users.member, client: apps.webApp.app, resource: apps.middleTierApi.app, scopes: ['access_as_user'] });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } });
      expect({ status: response.status, challenge: response.headers.get('www-authenticate'), body: await response.json() }).toEqual({
        status: 500,
        challenge: null,
        body: { statusCode: 500, error: 'internal_error', message: 'The service is misconfigured.' },
      });
      // Past any backoff, so discovery is asked again: the log line still comes once.
      entra.clock.advanceSec(60);
    }
    const discoveries = entra.requests.filter((request) => request.endpoint === 'discovery' && request.tenant === unknownTenant);
    expect(discoveries.length).toBeGreaterThanOrEqual(2);
    const named = logger.lines.filter((line) => line.text.includes(unknownTenant));
    expect(named).toEqual([{ level: 'error', text: expect.stringMatching(/Configuration error: .*does not know tenant .*invalid_tenant/) }]);
  });

  it('logs a rejected token at debug level once per reason per minute, with expected and actual audience, never the token', async () => {
    let url: string;
    ({ app, url } = await startCapturedApp(adapter, middleTierOptions(entra), logger, []));
    const { apps, users } = entra.defaults;
    const wrongAudience = () => entra.issueAccessToken({ user: users.member, client: apps.webApp.app, resource: apps.downstreamApi.app, scopes: ['Profile.Read'] });
    const sent: string[] = [];
    const send = async () => {
      const token = await wrongAudience();
      sent.push(token);
      expect((await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    };
    const rejectionLines = () => logger.lines.filter((line) => line.text.includes('Access token rejected (audience)'));
    for (let attempt = 0; attempt < 3; attempt += 1) await send();
    expect(rejectionLines()).toHaveLength(1);
    expect(rejectionLines()[0]).toEqual({
      level: 'debug',
      text: expect.stringContaining(`expected aud one of ["${apps.middleTierApi.app.clientId}","api://${apps.middleTierApi.app.clientId}"], got "${apps.downstreamApi.app.clientId}"`),
    });
    entra.clock.advanceSec(61);
    await send();
    expect(rejectionLines()).toHaveLength(2);
    const everything = logger.lines.map((line) => line.text).join('\n');
    for (const token of sent) for (const segment of token.split('.')) expect(everything).not.toContain(segment);
  });
});
