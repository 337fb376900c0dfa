import { useEmulator } from '../support/emulator.js';
import { CLIENT_CREDENTIALS_GRANT, JWT_BEARER_GRANT, daemonToken, get, userToken, withApp } from './support/http-calls.js';
import { ADAPTERS, middleTierOptions } from './support/test-app.js';

/**
 * Throttling and slow answers from Entra, over HTTP. Entra's guidance for a 429 is to wait for `Retry-After` before
 * sending the request again ("Throttling guidance", learn.microsoft.com/graph/throttling; Entra's token endpoint
 * answers 429 with `Retry-After`: learn.microsoft.com/entra/identity-platform/reference-error-codes).
 */
describe.each(ADAPTERS)('Entra throttling and deadlines on %s', (adapter) => {
  const entra = useEmulator();

  const oboRequests = () => entra.tokenRequests({ grantType: JWT_BEARER_GRANT }).length;

  it("remembers a 429 until its Retry-After: the caller's repeats are answered locally, other callers still reach Entra", async () => {
    await withApp(adapter, middleTierOptions(entra), async ({ url }) => {
      const tenantId = entra.defaults.tenants.primary.id;
      const throttledUser = entra.directory.addUser({ tenantId, username: `throttled-${adapter}` });
      const otherUser = entra.directory.addUser({ tenantId, username: `unthrottled-${adapter}` });
      const token = await userToken(entra, throttledUser);
      entra.faults.inject({ type: 'throttle', retryAfterSec: 30 }, { grantType: JWT_BEARER_GRANT });
      const before = oboRequests();

      const first = await get(url, '/downstream', token);
      expect(first.status).toBe(503);
      expect(first.headers.get('retry-after')).toBe('30');

      entra.clock.advanceSec(10);
      for (let repeat = 0; repeat < 5; repeat += 1) {
        const again = await get(url, '/downstream', token);
        expect(again.status).toBe(503);
        expect(again.headers.get('retry-after')).toBe('20');
      }
      expect(oboRequests() - before).toBe(1);

      expect((await get(url, '/downstream', await userToken(entra, otherUser))).status).toBe(200);
      expect(oboRequests() - before).toBe(2);

      entra.clock.advanceSec(21);
      expect((await get(url, '/downstream', token)).status).toBe(200);
      expect(oboRequests() - before).toBe(3);
    });
  });

  it('remembers a throttled app token the same way', async () => {
    await withApp(adapter, middleTierOptions(entra), async ({ url }) => {
      entra.faults.inject({ type: 'throttle', retryAfterSec: 45, body: 'text' }, { grantType: CLIENT_CREDENTIALS_GRANT });
      const before = entra.tokenRequests({ grantType: CLIENT_CREDENTIALS_GRANT }).length;
      const daemon = await daemonToken(entra);
      expect((await get(url, '/app', daemon)).headers.get('retry-after')).toBe('45');
      const repeat = await get(url, '/app', daemon);
      expect(repeat.status).toBe(503);
      expect(Number(repeat.headers.get('retry-after'))).toBeLessThanOrEqual(45);
      expect(entra.tokenRequests({ grantType: CLIENT_CREDENTIALS_GRANT }).length - before).toBe(1);
    });
  });

  it("caps Entra's Retry-After at an hour in what the client is told", async () => {
    await withApp(adapter, middleTierOptions(entra), async ({ url }) => {
      const user = entra.directory.addUser({ tenantId: entra.defaults.tenants.primary.id, username: `capped-${adapter}` });
      entra.faults.inject({ type: 'throttle', retryAfterSec: 100_000_000_000 }, { grantType: JWT_BEARER_GRANT });
      const answer = await get(url, '/downstream', await userToken(entra, user));
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('3600');
    });
  });

  it("waits out a 503's Retry-After when it fits the deadline, and gives up at once when it does not", async () => {
    await withApp(adapter, middleTierOptions(entra, { retries: 2, deadlineMs: 10_000 }), async ({ url }) => {
      const tenantId = entra.defaults.tenants.primary.id;
      const patient = entra.directory.addUser({ tenantId, username: `patient-${adapter}` });
      entra.faults.inject({ type: 'server-error', status: 503, retryAfterSec: 1 }, { grantType: JWT_BEARER_GRANT });
      let before = oboRequests();
      expect((await get(url, '/downstream', await userToken(entra, patient))).status).toBe(200);
      expect(oboRequests() - before).toBe(2);

      const impatient = entra.directory.addUser({ tenantId, username: `impatient-${adapter}` });
      entra.faults.inject({ type: 'server-error', status: 503, retryAfterSec: 60 }, { grantType: JWT_BEARER_GRANT });
      before = oboRequests();
      const answer = await get(url, '/downstream', await userToken(entra, impatient));
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('60');
      // Waiting 60 s would break the 10 s deadline: no second attempt.
      expect(oboRequests() - before).toBe(1);
    });
  });

  it('bounds one acquisition by deadlineMs, whatever timeoutMs and retries allow', async () => {
    // Without the deadline, five retries of 1.5 s attempts against an Entra that hangs would make six requests.
    await withApp(adapter, middleTierOptions(entra, { timeoutMs: 1500, retries: 5, deadlineMs: 2000 }), async ({ url }) => {
      const user = entra.directory.addUser({ tenantId: entra.defaults.tenants.primary.id, username: `deadline-${adapter}` });
      entra.faults.inject({ type: 'delay', ms: 5000 }, { grantType: JWT_BEARER_GRANT, times: 6 });
      const before = oboRequests();
      const answer = await get(url, '/downstream', await userToken(entra, user));
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(oboRequests() - before).toBeGreaterThanOrEqual(1);
      expect(oboRequests() - before).toBeLessThanOrEqual(2);
    });
  });
});
