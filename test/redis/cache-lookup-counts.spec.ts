import { randomBytes } from 'node:crypto';
import type { CachedToken } from '../../src/cache/obo-token-cache.js';
import { tallySnapshot } from '../../src/observability/tallies.js';
import { RedisTokenCache, type RedisTokenCacheOptions } from '../../src/redis/index.js';
import { describeWithRedis, flushPrefix, REDIS_URL, uniquePrefix } from './support/redis.js';

const TENANT = '08ca7782-ab9b-4297-96fe-a80d943ee9f4';

function cachedToken(name: string): CachedToken {
  return { accessToken: `eyJhbGciOiJSUzI1NiJ9.${name}.signature`, expiresOnMs: Date.now() + 3_600_000, scopes: ['api://profile/Profile.Read'], tenantId: TENANT };
}

/** Lookups counted since `before` (the tallies are per process and cumulative). */
function countedSince(before: ReturnType<typeof tallySnapshot>) {
  const now = tallySnapshot().cacheLookups;
  const was = before.cacheLookups;
  return {
    l1: { hits: now.l1.hits - was.l1.hits, misses: now.l1.misses - was.l1.misses },
    l2: { hits: now.l2.hits - was.l2.hits, misses: now.l2.misses - was.l2.misses },
  };
}

describeWithRedis('RedisTokenCache: lookups per tier (entra_obo.cache.lookups) and health()', () => {
  const opened: { cache: RedisTokenCache; prefix: string }[] = [];
  const prefixes = new Map<RedisTokenCache, string>();
  const cacheKeys = new Map<RedisTokenCache, string[]>();
  function openCache(options: Partial<RedisTokenCacheOptions> = {}): RedisTokenCache {
    const prefix = uniquePrefix('lookups');
    const encryptionKeys = options.encryptionKeys ?? [randomBytes(32).toString('base64')];
    const cache = new RedisTokenCache({ connection: REDIS_URL, keyPrefix: prefix, operationTimeoutMs: 2000, ...options, encryptionKeys });
    opened.push({ cache, prefix });
    prefixes.set(cache, prefix);
    cacheKeys.set(cache, encryptionKeys);
    return cache;
  }
  afterEach(async () => {
    for (const { cache, prefix } of opened.splice(0)) {
      await cache.close();
      await flushPrefix(prefix);
    }
    prefixes.clear();
    cacheKeys.clear();
  });

  it('counts an L1 miss and then an l2 hit or miss, and an L1 hit alone', async () => {
    const cache = openCache();
    const before = tallySnapshot();
    expect(await cache.get('absent')).toBeUndefined();
    expect(countedSince(before)).toEqual({ l1: { hits: 0, misses: 1 }, l2: { hits: 0, misses: 1 } });

    await cache.set('present', cachedToken('present'), Date.now() + 600_000);
    const afterSet = tallySnapshot();
    expect(await cache.get('present')).toBeDefined(); // from L1, which the write filled
    expect(countedSince(afterSet)).toEqual({ l1: { hits: 1, misses: 0 }, l2: { hits: 0, misses: 0 } });

    // Another instance on the same prefix and keys has an empty L1: it misses there and hits in Redis.
    const other = new RedisTokenCache({ connection: REDIS_URL, encryptionKeys: cacheKeys.get(cache)!, keyPrefix: prefixes.get(cache)!, operationTimeoutMs: 2000 });
    opened.push({ cache: other, prefix: prefixes.get(cache)! });
    const beforeOther = tallySnapshot();
    expect(await other.get('present')).toBeDefined();
    expect(countedSince(beforeOther)).toEqual({ l1: { hits: 0, misses: 1 }, l2: { hits: 1, misses: 0 } });
  });

  it('with L1 off counts l2 only: a hit from Redis, and a miss', async () => {
    const cache = openCache({ l1MaxEntries: 0 });
    await cache.set('present', cachedToken('present'), Date.now() + 600_000);
    const before = tallySnapshot();
    expect(await cache.get('present')).toBeDefined();
    expect(await cache.get('absent')).toBeUndefined();
    expect(countedSince(before)).toEqual({ l1: { hits: 0, misses: 0 }, l2: { hits: 1, misses: 1 } });
  });

  it('answers health() with a PING: available, the breaker closed, no secret in the details', async () => {
    const key = randomBytes(32).toString('base64');
    const cache = openCache({ encryptionKeys: [key] });
    const health = await cache.health();
    expect(health).toEqual({ available: true, details: { backend: 'redis', breaker: 'closed', errors: 0, skipped: 0 } });
    expect(JSON.stringify(health)).not.toContain(key);
  });
});
