import { randomUUID } from 'node:crypto';
import { TEST_API, TEST_SCOPE, TEST_TENANT, testPrincipal, testService } from '../../test/support/token-acquisition-fixtures.js';
import { oboCacheKey } from '../cache/cache-key.js';
import { InMemoryTokenCache } from '../cache/in-memory-token-cache.js';
import type { CacheLock, CachedToken } from '../cache/obo-token-cache.js';
import type { ExchangedToken } from '../msal/msal-token-exchanger.js';

const TENANT = TEST_TENANT;
const SCOPE = TEST_SCOPE;
const API = TEST_API;

/**
 * One store shared by several service instances, as Redis is: entries plus a lock table. `tryLock` hands out each key
 * once until released; the test can hold a key itself to play another instance.
 */
class SharedLockingCache extends InMemoryTokenCache {
  readonly events: string[] = [];
  readonly held = new Set<string>();
  lockAttempts = 0;

  override set(key: string, value: CachedToken, cacheUntilMs: number): void {
    this.events.push('set');
    super.set(key, value, cacheUntilMs);
  }

  override async tryLock(key: string): Promise<CacheLock | undefined> {
    this.lockAttempts += 1;
    if (this.held.has(key)) return undefined;
    this.held.add(key);
    this.events.push('lock');
    return {
      release: async () => {
        if (!this.held.delete(key)) return;
        this.events.push('release');
      },
    };
  }
}

/** An exchanger whose answers the test releases, so concurrency is decided by the test and not by timing. */
class GatedExchanger {
  calls = 0;
  private open!: (outcome: ExchangedToken | Error) => void;
  private readonly gate = new Promise<ExchangedToken | Error>((resolve) => (this.open = resolve));

  async onBehalfOf(): Promise<ExchangedToken> {
    this.calls += 1;
    const outcome = await this.gate;
    if (outcome instanceof Error) throw outcome;
    return outcome;
  }

  succeed(): void {
    this.open({ accessToken: 'downstream-token', expiresOnMs: Date.now() + 3_600_000, scopes: [SCOPE], correlationId: randomUUID() });
  }

  fail(): void {
    this.open(new Error('identity provider unavailable'));
  }
}

const principal = () => testPrincipal();

function service(cache: SharedLockingCache, exchanger: GatedExchanger, timing: { timeoutMs: number; retries: number } = { timeoutMs: 10_000, retries: 2 }) {
  return testService(cache, exchanger, timing);
}

/** Resolves once `condition` holds, checking after each turn of the event loop. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('TokenAcquisitionService with a cache that offers a cross-instance lock', () => {
  it('makes one exchange for two instances x 20 concurrent misses, and releases the lock after storing', async () => {
    const cache = new SharedLockingCache();
    const exchanger = new GatedExchanger();
    const instances = [service(cache, exchanger), service(cache, exchanger)];
    const user = principal();
    const calls = Array.from({ length: 40 }, (_, index) => instances[index % 2]!.acquireTokenOnBehalfOf(user, SCOPE));
    await until(() => exchanger.calls === 1);
    exchanger.succeed();
    const results = await Promise.all(calls);
    expect(results.every((result) => result.accessToken === 'downstream-token')).toBe(true);
    expect(exchanger.calls).toBe(1);
    // In-process single-flight hands the exchanging instance's result to its 20 callers; the other instance's 20 waited
    // for the entry under the lock.
    expect(results.filter((result) => result.fromCache)).toHaveLength(20);
    expect(cache.events).toEqual(['lock', 'set', 'release']);
    expect(cache.held.size).toBe(0);
  });

  it("waits for the lock holder's entry instead of exchanging", async () => {
    const cache = new SharedLockingCache();
    const exchanger = new GatedExchanger();
    const key = oboCacheKey(API, 'incoming-token-hash', TENANT, [SCOPE]);
    cache.held.add(key);
    const pending = service(cache, exchanger).acquireTokenOnBehalfOf(principal(), SCOPE);
    // Another instance holds the lock; it stores its token once this one has found the lock taken and is polling.
    await until(() => cache.lockAttempts >= 2);
    cache.set(key, { accessToken: 'from-the-other-instance', expiresOnMs: Date.now() + 3_600_000, scopes: [SCOPE], tenantId: TENANT }, Date.now() + 3_600_000);
    const result = await pending;
    expect(result).toMatchObject({ accessToken: 'from-the-other-instance', fromCache: true });
    expect(exchanger.calls).toBe(0);
    expect(cache.held.has(key)).toBe(true);
  });

  // A holder that never delivers: the wait is bounded by one attempt of its exchange (timeoutMs) plus a margin, and by
  // this acquisition's own deadline (11 s of polling every 25 ms would be allowed by the first; 1 ms ends it at once).
  it.each([
    ['one attempt plus a margin', { timeoutMs: 1, retries: 0 }, { min: 2, max: Number.POSITIVE_INFINITY }],
    ["the acquisition's own deadline (deadlineMs)", { timeoutMs: 10_000, retries: 0, deadlineMs: 1 }, { min: 1, max: 3 }],
  ] as const)('exchanges anyway when the lock holder never delivers, after a wait bounded by %s', async (_bound, timing, attempts) => {
    const cache = new SharedLockingCache();
    const exchanger = new GatedExchanger();
    cache.tryLock = async () => {
      cache.lockAttempts += 1;
      return undefined;
    };
    exchanger.succeed();
    const result = await testService(cache, exchanger, timing).acquireTokenOnBehalfOf(principal(), SCOPE);
    expect(result).toMatchObject({ accessToken: 'downstream-token', fromCache: false });
    expect(exchanger.calls).toBe(1);
    expect(cache.lockAttempts).toBeGreaterThanOrEqual(attempts.min);
    expect(cache.lockAttempts).toBeLessThanOrEqual(attempts.max);
  });

  it('releases the lock when the exchange fails, and caches nothing', async () => {
    const cache = new SharedLockingCache();
    const exchanger = new GatedExchanger();
    exchanger.fail();
    await expect(service(cache, exchanger).acquireTokenOnBehalfOf(principal(), SCOPE)).rejects.toThrow('identity provider unavailable');
    expect(cache.events).toEqual(['lock', 'release']);
    expect(cache.size).toBe(0);
  });
});
