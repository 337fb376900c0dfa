import { randomUUID } from 'node:crypto';
import { TEST_SCOPE, TEST_TENANT, testPrincipal, testService } from '../../test/support/token-acquisition-fixtures.js';
import { InMemoryTokenCache } from '../cache/in-memory-token-cache.js';
import type { CacheLock, CachedToken } from '../cache/obo-token-cache.js';
import type { ExchangedToken } from '../msal/msal-token-exchanger.js';

const TENANT = TEST_TENANT;
const SCOPE = TEST_SCOPE;

/**
 * A shared cache whose lock is played by the test: `onTryLock` answers each attempt (the attempt's number, the key and
 * TTL asked for), as another instance holding, storing and releasing would make it answer.
 */
class ScriptedLockCache extends InMemoryTokenCache {
  readonly ttlsAskedMs: number[] = [];
  released = 0;
  onTryLock: (attempt: number, key: string) => boolean = () => true;

  override async tryLock(key: string, ttlMs: number): Promise<CacheLock | undefined> {
    this.ttlsAskedMs.push(ttlMs);
    if (!this.onTryLock(this.ttlsAskedMs.length, key)) return undefined;
    return { release: async () => void (this.released += 1) };
  }
}

class CountingExchanger {
  calls = 0;

  async onBehalfOf(): Promise<ExchangedToken> {
    this.calls += 1;
    return { accessToken: 'exchanged-here', expiresOnMs: Date.now() + 3_600_000, scopes: [SCOPE], correlationId: randomUUID() };
  }
}

const principal = () => testPrincipal();

function service(cache: ScriptedLockCache, exchanger: CountingExchanger, timing: { timeoutMs: number; retries: number }) {
  return testService(cache, exchanger, { ...timing, clientId: 'api' });
}

function otherInstancesToken(): CachedToken {
  return { accessToken: 'from-the-other-instance', expiresOnMs: Date.now() + 3_600_000, scopes: [SCOPE], tenantId: TENANT };
}

describe('TokenAcquisitionService and the cross-instance lock', () => {
  it('reads the cache again after taking the lock: a waiter that takes the lock the winner just freed does not exchange', async () => {
    const cache = new ScriptedLockCache();
    const exchanger = new CountingExchanger();
    cache.onTryLock = (attempt, key) => {
      if (attempt === 1) return false;
      // Between this instance's last read and its next attempt, the winner stored its token and released the lock.
      cache.set(key, otherInstancesToken(), Date.now() + 3_600_000);
      return true;
    };
    const result = await service(cache, exchanger, { timeoutMs: 10_000, retries: 2 }).acquireTokenOnBehalfOf(principal(), SCOPE);
    expect(result).toMatchObject({ accessToken: 'from-the-other-instance', fromCache: true });
    expect(exchanger.calls).toBe(0);
    // The lock it took for nothing is given back at once.
    expect(cache.released).toBe(1);
  });

  it('bounds the lock, and so any wait for it, by one attempt plus a margin, however many retries are configured', async () => {
    const cache = new ScriptedLockCache();
    const exchanger = new CountingExchanger();
    await service(cache, exchanger, { timeoutMs: 2_000, retries: 5 }).acquireTokenOnBehalfOf(principal(), SCOPE);
    expect(exchanger.calls).toBe(1);
    expect(cache.released).toBe(1);
    // A planted or abandoned lock costs a waiter about one exchange, not (retries + 1) x timeoutMs.
    expect(cache.ttlsAskedMs).toEqual([3_000]);
  });
});
