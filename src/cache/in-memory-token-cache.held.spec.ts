import { tallySnapshot } from '../observability/tallies.js';
import { InMemoryTokenCache, type HeldCacheEntry } from './in-memory-token-cache.js';
import type { CachedToken } from './obo-token-cache.js';

const TENANT = '11111111-2222-4333-8444-555555555555';
const ALICE = 'a11ce000-0000-4000-8000-000000000001';
const START_MS = Date.UTC(2030, 0, 1);
const HOUR_MS = 3_600_000;

function token(name: string): CachedToken {
  return { accessToken: `access-token-${name}`, expiresOnMs: START_MS + HOUR_MS, scopes: ['api://downstream/read'], tenantId: TENANT, userObjectId: ALICE };
}

// The pipes' hit path holds the entry it found and reads it again on the next request without a lookup. A held entry
// must answer exactly what `get` of its key would: nothing once the entry left the cache, whichever way it left.
describe('InMemoryTokenCache: held entries', () => {
  let nowMs: number;
  let cache: InMemoryTokenCache;
  let held: HeldCacheEntry;

  beforeEach(() => {
    nowMs = START_MS;
    cache = new InMemoryTokenCache({ maxEntries: 3 }, () => nowMs);
    cache.set('k1', token('1'), START_MS + HOUR_MS);
    held = cache.hold('k1')!;
  });

  it('answers the very value stored while the entry is in the cache, and holds nothing for an absent key', () => {
    expect(cache.getHeld(held)).toBe(cache.get('k1'));
    expect(cache.getHeld(held)?.accessToken).toBe('access-token-1');
    expect(cache.hold('absent')).toBeUndefined();
  });

  it.each([
    ['deleted', (c: InMemoryTokenCache) => c.delete('k1')],
    ['replaced by a newer token', (c: InMemoryTokenCache) => c.set('k1', token('newer'), START_MS + HOUR_MS)],
    ['replaced by an already expired value', (c: InMemoryTokenCache) => c.set('k1', token('stale'), START_MS)],
    ['removed with its user', (c: InMemoryTokenCache) => c.removeUser(TENANT.toUpperCase(), ALICE)],
    ['cleared', (c: InMemoryTokenCache) => c.clear()],
    ['evicted for room', (c: InMemoryTokenCache) => ['k2', 'k3', 'k4'].forEach((key) => c.set(key, token(key), START_MS + HOUR_MS))],
  ])('answers nothing once the entry was %s, as get does', (_, leave) => {
    leave(cache);
    expect(cache.getHeld(held)).toBeUndefined();
    expect(cache.get('k1')?.accessToken).not.toBe('access-token-1');
  });

  it('answers nothing from the entry expiry on, and leaves the removal and the miss count to get', () => {
    nowMs = START_MS + HOUR_MS - 1;
    expect(cache.getHeld(held)).toBeDefined();
    nowMs = START_MS + HOUR_MS;
    const before = tallySnapshot().cacheLookups.l1;
    expect(cache.getHeld(held)).toBeUndefined();
    expect(tallySnapshot().cacheLookups.l1).toEqual(before);
    expect(cache.size).toBe(1);
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('counts a held read as an l1 hit, as get does', () => {
    const before = tallySnapshot().cacheLookups.l1;
    cache.getHeld(held);
    cache.getHeld(held);
    const after = tallySnapshot().cacheLookups.l1;
    expect({ hits: after.hits - before.hits, misses: after.misses - before.misses }).toEqual({ hits: 2, misses: 0 });
  });

  it('counts a held read as a use: the entry read through its hold outlives the entries written after it', () => {
    cache.set('k2', token('2'), START_MS + HOUR_MS);
    cache.set('k3', token('3'), START_MS + HOUR_MS);
    // k1 is the oldest now, and in the older half: a held read moves it to the newest end, as a get would.
    expect(cache.getHeld(held)).toBeDefined();
    cache.set('k4', token('4'), START_MS + HOUR_MS);
    expect(cache.get('k2')).toBeUndefined();
    expect(cache.getHeld(held)?.accessToken).toBe('access-token-1');
  });
});
