import { tallySnapshot } from '../observability/tallies.js';
import { DEFAULT_MAX_CACHE_ENTRIES, InMemoryTokenCache } from './in-memory-token-cache.js';
import { OboConfigurationError } from '../errors/obo-errors.js';
import type { CachedToken } from './obo-token-cache.js';

const TENANT = '11111111-2222-4333-8444-555555555555';
const OTHER_TENANT = '99999999-8888-4777-8666-555555555555';
const ALICE = 'a11ce000-0000-4000-8000-000000000001';
const BOB = 'b0b00000-0000-4000-8000-000000000002';
const START_MS = Date.UTC(2030, 0, 1);
const HOUR_MS = 3_600_000;

/** A cached token; without `userObjectId` it is an app-only (client credentials) token. */
function token(name: string, owner: { tenantId?: string; userObjectId?: string } = {}): CachedToken {
  return {
    accessToken: `access-token-${name}`,
    expiresOnMs: START_MS + HOUR_MS,
    scopes: ['api://downstream/read'],
    tenantId: owner.tenantId ?? TENANT,
    ...(owner.userObjectId ? { userObjectId: owner.userObjectId } : {}),
  };
}

/** The private per-user index, read only to prove it does not keep keys of entries that are gone (a leak). */
function indexedKeys(cache: InMemoryTokenCache): Map<string, Set<string>> {
  return (cache as unknown as { keysByUser: Map<string, Set<string>> }).keysByUser;
}

describe('InMemoryTokenCache', () => {
  let nowMs: number;
  let cache: InMemoryTokenCache;

  beforeEach(() => {
    nowMs = START_MS;
    cache = new InMemoryTokenCache({ maxEntries: 3 }, () => nowMs);
  });

  describe('get, set, delete', () => {
    it('returns what was stored until it is deleted', () => {
      const value = token('one');
      expect(cache.get('k1')).toBeUndefined();
      cache.set('k1', value, START_MS + HOUR_MS);
      expect(cache.get('k1')).toBe(value);
      expect(cache.size).toBe(1);
      cache.delete('k1');
      expect(cache.get('k1')).toBeUndefined();
      expect(cache.size).toBe(0);
    });

    it('overwrites a key with the newer value', () => {
      cache.set('k1', token('old'), START_MS + HOUR_MS);
      cache.set('k1', token('new'), START_MS + HOUR_MS);
      expect(cache.get('k1')?.accessToken).toBe('access-token-new');
      expect(cache.size).toBe(1);
    });

    it('ignores the deletion of a key it does not hold', () => {
      cache.set('k1', token('one'), START_MS + HOUR_MS);
      cache.delete('absent');
      expect(cache.get('k1')?.accessToken).toBe('access-token-one');
    });

    it('empties itself on clear', () => {
      cache.set('k1', token('one', { userObjectId: ALICE }), START_MS + HOUR_MS);
      cache.clear();
      expect(cache.size).toBe(0);
      expect(indexedKeys(cache).size).toBe(0);
    });
  });

  describe('expiry by the injected clock', () => {
    it('serves an entry until just before its expiry, and never at or after it', () => {
      cache.set('k1', token('one'), START_MS + 1_000);
      nowMs = START_MS + 999;
      expect(cache.get('k1')?.accessToken).toBe('access-token-one');
      nowMs = START_MS + 1_000;
      expect(cache.get('k1')).toBeUndefined();
      // Gone for good: moving the clock back does not resurrect it.
      nowMs = START_MS;
      expect(cache.get('k1')).toBeUndefined();
      expect(cache.size).toBe(0);
    });

    it('stores nothing when the expiry is now or in the past, and drops the value it replaces', () => {
      cache.set('k1', token('one', { userObjectId: ALICE }), START_MS + HOUR_MS);
      cache.set('k1', token('two', { userObjectId: ALICE }), START_MS);
      cache.set('k2', token('three'), START_MS - 1);
      expect(cache.get('k1')).toBeUndefined();
      expect(cache.get('k2')).toBeUndefined();
      expect(cache.size).toBe(0);
      expect(indexedKeys(cache).size).toBe(0);
    });

    it('forgets the user index of an entry that expired', () => {
      cache.set('k1', token('one', { userObjectId: ALICE }), START_MS + 10);
      nowMs = START_MS + 10;
      expect(cache.get('k1')).toBeUndefined();
      expect(indexedKeys(cache).size).toBe(0);
    });
  });

  describe('least-recently-used eviction', () => {
    it('evicts the oldest entry first', () => {
      cache.set('k1', token('1'), START_MS + HOUR_MS);
      cache.set('k2', token('2'), START_MS + HOUR_MS);
      cache.set('k3', token('3'), START_MS + HOUR_MS);
      cache.set('k4', token('4'), START_MS + HOUR_MS);
      expect(cache.size).toBe(3);
      expect(cache.get('k1')).toBeUndefined();
      expect(['k2', 'k3', 'k4'].map((key) => cache.get(key)?.accessToken)).toEqual(['access-token-2', 'access-token-3', 'access-token-4']);
    });

    it('counts a hit as a use: the entry read last survives', () => {
      cache.set('k1', token('1'), START_MS + HOUR_MS);
      cache.set('k2', token('2'), START_MS + HOUR_MS);
      cache.set('k3', token('3'), START_MS + HOUR_MS);
      expect(cache.get('k1')).toBeDefined();
      cache.set('k4', token('4'), START_MS + HOUR_MS);
      expect(cache.get('k2')).toBeUndefined();
      expect(cache.get('k1')?.accessToken).toBe('access-token-1');
      cache.set('k5', token('5'), START_MS + HOUR_MS);
      expect(cache.get('k3')).toBeUndefined();
      expect(cache.get('k1')?.accessToken).toBe('access-token-1');
    });

    it('moves a hit only from the older half: an entry read while in the newer half still outlives half the bound', () => {
      const big = new InMemoryTokenCache({ maxEntries: 10 }, () => START_MS);
      for (let index = 0; index < 10; index += 1) big.set(`k${index}`, token(String(index)), START_MS + HOUR_MS);
      expect(big.get('k6')).toBeDefined(); // 3 writes since k6: it stays where it is
      expect(big.get('k1')).toBeDefined(); // 8 writes since k1: it moves to the newest end
      for (let index = 10; index < 16; index += 1) big.set(`k${index}`, token(String(index)), START_MS + HOUR_MS);
      // Six inserts evicted the six oldest: k0, k2, k3, k4, k5 and k6 (not moved), never k1 (moved by its hit).
      expect(['k0', 'k2', 'k3', 'k4', 'k5', 'k6'].map((key) => big.get(key))).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
      expect(big.get('k1')?.accessToken).toBe('access-token-1');
      expect(big.get('k7')?.accessToken).toBe('access-token-7');
      expect(big.size).toBe(10);
    });

    it('counts an overwrite as a use', () => {
      cache.set('k1', token('1'), START_MS + HOUR_MS);
      cache.set('k2', token('2'), START_MS + HOUR_MS);
      cache.set('k3', token('3'), START_MS + HOUR_MS);
      cache.set('k1', token('1b'), START_MS + HOUR_MS);
      cache.set('k4', token('4'), START_MS + HOUR_MS);
      expect(cache.get('k2')).toBeUndefined();
      expect(cache.get('k1')?.accessToken).toBe('access-token-1b');
    });

    it('never holds more than maxEntries, however many are inserted', () => {
      const bounded = new InMemoryTokenCache({ maxEntries: 100 }, () => nowMs);
      for (let index = 0; index < 5_000; index += 1) {
        bounded.set(`key-${index}`, token(String(index), { userObjectId: `user-${index % 700}` }), START_MS + HOUR_MS);
        expect(bounded.size).toBeLessThanOrEqual(100);
      }
      expect(bounded.size).toBe(100);
      expect(bounded.get('key-4899')).toBeUndefined();
      expect(bounded.get('key-4900')?.accessToken).toBe('access-token-4900');
      expect(bounded.get('key-4999')?.accessToken).toBe('access-token-4999');
      const indexed = [...indexedKeys(bounded).values()].reduce((total, keys) => total + keys.size, 0);
      expect(indexed).toBe(100);
    });

    it('defaults to 10,000 entries', () => {
      expect(DEFAULT_MAX_CACHE_ENTRIES).toBe(10_000);
      expect(new InMemoryTokenCache().maxEntries).toBe(10_000);
    });

    it('refuses an unknown option (a typo of maxEntries is not silently ignored)', () => {
      expect(() => new InMemoryTokenCache({ maxEntry: 5 } as never)).toThrow("Invalid InMemoryTokenCache options:\n- unknown option 'maxEntry'");
    });

    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses maxEntries %p', (maxEntries) => {
      expect(() => new InMemoryTokenCache({ maxEntries })).toThrow(OboConfigurationError);
      expect(() => new InMemoryTokenCache({ maxEntries })).toThrow(`Invalid InMemoryTokenCache options:\n- maxEntries must be an integer >= 1, got ${maxEntries}`);
    });
  });

  describe('removeUser', () => {
    beforeEach(() => {
      cache = new InMemoryTokenCache({ maxEntries: 10 }, () => nowMs);
    });

    it("removes every entry of that user, and only that user's", () => {
      cache.set('alice-1', token('a1', { userObjectId: ALICE }), START_MS + HOUR_MS);
      cache.set('alice-2', token('a2', { userObjectId: ALICE }), START_MS + HOUR_MS);
      cache.set('bob-1', token('b1', { userObjectId: BOB }), START_MS + HOUR_MS);
      cache.set('alice-elsewhere', token('a3', { tenantId: OTHER_TENANT, userObjectId: ALICE }), START_MS + HOUR_MS);
      cache.set('app', token('app'), START_MS + HOUR_MS);

      cache.removeUser(TENANT, ALICE);

      expect(cache.get('alice-1')).toBeUndefined();
      expect(cache.get('alice-2')).toBeUndefined();
      expect(cache.get('bob-1')?.accessToken).toBe('access-token-b1');
      // The same object id in another tenant is another account (a guest's home identity, for instance).
      expect(cache.get('alice-elsewhere')?.accessToken).toBe('access-token-a3');
      expect(cache.get('app')?.accessToken).toBe('access-token-app');
      expect(cache.size).toBe(3);
    });

    it('matches tenant and object ids case-insensitively, as the GUIDs they are', () => {
      // Entra's ids are GUIDs, which compare case-insensitively (RFC 9562, section 4); callers may hold either case.
      cache.set('alice-upper', token('a1', { tenantId: TENANT.toUpperCase(), userObjectId: ALICE.toUpperCase() }), START_MS + HOUR_MS);
      cache.set('alice-lower', token('a2', { userObjectId: ALICE }), START_MS + HOUR_MS);
      cache.removeUser(TENANT, ALICE.toUpperCase());
      expect(cache.get('alice-upper')).toBeUndefined();
      expect(cache.get('alice-lower')).toBeUndefined();
      expect(indexedKeys(cache).size).toBe(0);
    });

    it('does nothing for a user without entries', () => {
      cache.set('app', token('app'), START_MS + HOUR_MS);
      cache.removeUser(TENANT, BOB);
      expect(cache.size).toBe(1);
    });

    it('leaves app-only tokens alone', () => {
      cache.set('app-1', token('app-1'), START_MS + HOUR_MS);
      cache.set('app-2', token('app-2', { tenantId: OTHER_TENANT }), START_MS + HOUR_MS);
      cache.removeUser(TENANT, ALICE);
      cache.removeUser(OTHER_TENANT, ALICE);
      expect(cache.get('app-1')).toBeDefined();
      expect(cache.get('app-2')).toBeDefined();
    });

    it('does not remove an entry that another user took over after eviction', () => {
      const small = new InMemoryTokenCache({ maxEntries: 1 }, () => nowMs);
      small.set('shared-key', token('alice', { userObjectId: ALICE }), START_MS + HOUR_MS);
      small.set('other', token('bob', { userObjectId: BOB }), START_MS + HOUR_MS);
      small.set('shared-key', token('bob-2', { userObjectId: BOB }), START_MS + HOUR_MS);
      small.removeUser(TENANT, ALICE);
      expect(small.get('shared-key')?.accessToken).toBe('access-token-bob-2');
      expect([...indexedKeys(small).keys()]).toEqual([`${TENANT}|${BOB}`]);
    });

    it('does not remove a key overwritten with another user, nor with an app token', () => {
      cache.set('k1', token('alice', { userObjectId: ALICE }), START_MS + HOUR_MS);
      cache.set('k1', token('bob', { userObjectId: BOB }), START_MS + HOUR_MS);
      cache.set('k2', token('alice', { userObjectId: ALICE }), START_MS + HOUR_MS);
      cache.set('k2', token('app'), START_MS + HOUR_MS);
      cache.removeUser(TENANT, ALICE);
      expect(cache.get('k1')?.accessToken).toBe('access-token-bob');
      expect(cache.get('k2')?.accessToken).toBe('access-token-app');
      cache.removeUser(TENANT, BOB);
      expect(cache.get('k1')).toBeUndefined();
      expect(cache.get('k2')?.accessToken).toBe('access-token-app');
    });

    it('does not resurrect or remove a key deleted and then reused', () => {
      cache.set('k1', token('alice', { userObjectId: ALICE }), START_MS + HOUR_MS);
      cache.delete('k1');
      expect(indexedKeys(cache).size).toBe(0);
      cache.set('k1', token('bob', { userObjectId: BOB }), START_MS + HOUR_MS);
      cache.removeUser(TENANT, ALICE);
      expect(cache.get('k1')?.accessToken).toBe('access-token-bob');
    });

    it('keeps working for a user after their entries were removed', () => {
      cache.set('k1', token('alice', { userObjectId: ALICE }), START_MS + HOUR_MS);
      cache.removeUser(TENANT, ALICE);
      expect(indexedKeys(cache).size).toBe(0);
      cache.set('k2', token('alice-again', { userObjectId: ALICE }), START_MS + HOUR_MS);
      expect(cache.get('k2')?.accessToken).toBe('access-token-alice-again');
      cache.removeUser(TENANT, ALICE);
      expect(cache.get('k2')).toBeUndefined();
      expect(cache.size).toBe(0);
    });
  });

  describe('lookup counts (entra_obo.cache.lookups)', () => {
    it('counts each get as an l1 hit or miss: absent, present, expired', () => {
      const before = tallySnapshot().cacheLookups;
      cache.get('absent');
      cache.set('k1', token('one'), START_MS + HOUR_MS);
      cache.get('k1');
      cache.get('k1');
      nowMs = START_MS + HOUR_MS;
      cache.get('k1');
      const after = tallySnapshot().cacheLookups;
      expect({ hits: after.l1.hits - before.l1.hits, misses: after.l1.misses - before.l1.misses }).toEqual({ hits: 2, misses: 2 });
      expect(after.l2).toEqual(before.l2);
    });

    it('counts nothing for set, delete and removeUser', () => {
      const before = tallySnapshot().cacheLookups;
      cache.set('k1', token('alice', { userObjectId: ALICE }), START_MS + HOUR_MS);
      cache.delete('k1');
      cache.removeUser(TENANT, ALICE);
      expect(tallySnapshot().cacheLookups).toEqual(before);
    });
  });
});
