import type { CachedToken, CacheLock, OboTokenCache } from '../cache/obo-token-cache.js';
import { RefreshAhead, refreshAtMs } from './refresh-ahead.js';

const DUE: CachedToken = { accessToken: 'cached', expiresOnMs: 10_000, scopes: ['s'], tenantId: 't', refreshAtMs: 5_000 };

/** A cache whose lock another instance holds (or not): counts the lock requests. */
function lockingCache(granted: boolean): OboTokenCache & { lockRequests: number } {
  const cache = {
    lockRequests: 0,
    get: () => undefined,
    set: () => undefined,
    delete: () => undefined,
    tryLock: async (): Promise<CacheLock | undefined> => {
      cache.lockRequests += 1;
      return granted ? { release: async () => undefined } : undefined;
    },
  };
  return cache as unknown as OboTokenCache & { lockRequests: number };
}

describe('refreshAtMs', () => {
  it("is Entra's refresh_in when given, else half the life, and never after the entry's end", () => {
    expect(refreshAtMs(0, { expiresOnMs: 7_200_000, refreshOnMs: 1_000_000 }, 6_900_000)).toBe(1_000_000);
    expect(refreshAtMs(0, { expiresOnMs: 7_200_000 }, 6_900_000)).toBe(3_600_000);
    expect(refreshAtMs(0, { expiresOnMs: 600_000 }, 200_000)).toBe(200_000);
  });
});

describe('RefreshAhead', () => {
  it('does nothing before the renewal point, or for an entry without one', async () => {
    let renewals = 0;
    const ahead = new RefreshAhead(() => 4_999, lockingCache(true), 1000);
    ahead.onHit('k', DUE, async () => (renewals += 1));
    ahead.onHit('k', { ...DUE, refreshAtMs: undefined }, async () => (renewals += 1));
    await ahead.whenIdle();
    expect(renewals).toBe(0);
  });

  it('renews under the lock once the point has passed', async () => {
    let renewals = 0;
    const cache = lockingCache(true);
    const ahead = new RefreshAhead(() => 5_000, cache, 1000);
    ahead.onHit('k', DUE, async () => (renewals += 1));
    ahead.onHit('k', DUE, async () => (renewals += 1)); // joins the one running
    await ahead.whenIdle();
    expect({ renewals, lockRequests: cache.lockRequests }).toEqual({ renewals: 1, lockRequests: 1 });
  });

  it('leaves the renewal to the instance holding the lock, and does not ask for the lock on every hit', async () => {
    let renewals = 0;
    let now = 6_000;
    const cache = lockingCache(false);
    const ahead = new RefreshAhead(() => now, cache, 1000);
    for (let hit = 0; hit < 5; hit += 1) {
      ahead.onHit('k', DUE, async () => (renewals += 1));
      await ahead.whenIdle();
    }
    expect({ renewals, lockRequests: cache.lockRequests }).toEqual({ renewals: 0, lockRequests: 1 });
    now += 1_001;
    ahead.onHit('k', DUE, async () => (renewals += 1));
    await ahead.whenIdle();
    expect(cache.lockRequests).toBe(2);
  });
});
