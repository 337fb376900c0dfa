import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { CachedToken } from '../../src/cache/obo-token-cache.js';
import { OboConfigurationError } from '../../src/errors/obo-errors.js';
import { RedisTokenCache, type RedisTokenCacheOptions } from '../../src/redis/index.js';
import { registerOboTokenCacheContract } from '../../src/testing/index.js';
import { describeWithRedis, flushPrefix, OwnRedisServer, REDIS_URL, uniquePrefix } from './support/redis.js';

const KEY_1 = randomBytes(32).toString('base64');
const KEY_2 = randomBytes(32).toString('hex');
const TENANT = '08ca7782-ab9b-4297-96fe-a80d943ee9f4';
const USER = 'd09fdcc1-d26e-48e6-baa5-5305c1dcbf61';

function cachedToken(name: string, overrides: Partial<CachedToken> = {}): CachedToken {
  return { accessToken: `eyJhbGciOiJSUzI1NiJ9.${name}.signature`, expiresOnMs: Date.now() + 3_600_000, scopes: ['api://profile/Profile.Read'], tenantId: TENANT, userObjectId: USER, ...overrides };
}

describe('RedisTokenCache configuration', () => {
  const base: RedisTokenCacheOptions = { connection: REDIS_URL, encryptionKeys: [KEY_1] };

  it('reports every problem at once, and never a key', () => {
    const shortKey = randomBytes(16).toString('base64');
    let caught: unknown;
    try {
      new RedisTokenCache({ encryptionKeys: [shortKey, 'not-a-key'], operationTimeoutMs: 0 } as RedisTokenCacheOptions);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OboConfigurationError);
    const problems = (caught as OboConfigurationError).problems;
    expect(problems).toEqual([
      'RedisTokenCache: give exactly one of client (an ioredis client) and connection (a URL or ioredis options)',
      'RedisTokenCache: encryptionKeys[0] is not 32 bytes of base64 or hex',
      'RedisTokenCache: encryptionKeys[1] is not 32 bytes of base64 or hex',
      'RedisTokenCache: operationTimeoutMs must be an integer >= 1',
    ]);
    expect((caught as Error).message).not.toContain(shortKey);
  });

  it('refuses a missing key list', () => {
    expect(() => new RedisTokenCache({ ...base, encryptionKeys: [] })).toThrow(/at least one key is required/);
  });
});

describeWithRedis('RedisTokenCache against a real Redis', () => {
  const opened: RedisTokenCache[] = [];
  const prefixes: string[] = [];
  let inspector: Redis;

  function openCache(options: Partial<RedisTokenCacheOptions> = {}): RedisTokenCache {
    const cache = new RedisTokenCache({ connection: REDIS_URL, encryptionKeys: [KEY_1], keyPrefix: uniquePrefix('unit'), ...options });
    opened.push(cache);
    return cache;
  }

  beforeAll(() => {
    inspector = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await Promise.all(opened.map((cache) => cache.close()));
    await Promise.all(prefixes.map((prefix) => flushPrefix(prefix)));
    inspector.disconnect();
  });

  registerOboTokenCacheContract(
    'RedisTokenCache (L1 + Redis)',
    () => {
      const prefix = uniquePrefix('contract');
      prefixes.push(prefix);
      return { cache: openCache({ keyPrefix: prefix }) };
    },
    { describe, it },
  );
  registerOboTokenCacheContract(
    'RedisTokenCache (L1 + Redis) on a clock the test moves',
    () => {
      const prefix = uniquePrefix('contract-clock');
      prefixes.push(prefix);
      let nowMs = Date.now();
      return { cache: openCache({ keyPrefix: prefix, clock: { nowMs: () => nowMs } }), nowMs: () => nowMs, advanceMs: (ms: number) => (nowMs += ms) };
    },
    { describe, it },
  );
  registerOboTokenCacheContract(
    'RedisTokenCache (Redis only, no L1)',
    () => {
      const prefix = uniquePrefix('contract-l2');
      prefixes.push(prefix);
      return { cache: openCache({ keyPrefix: prefix, l1MaxEntries: 0 }) };
    },
    { describe, it },
  );

  it('serves another instance from Redis (L2), and keeps only ciphertext with TTLs there', async () => {
    const prefix = uniquePrefix('cipher');
    prefixes.push(prefix);
    const writer = openCache({ keyPrefix: prefix });
    const reader = openCache({ keyPrefix: prefix });
    const value = cachedToken('secret-part');
    await writer.set(`obo|${TENANT}|api://profile/profile.read|hash`, value, Date.now() + 600_000);
    expect(await reader.get(`obo|${TENANT}|api://profile/profile.read|hash`)).toEqual(value);
    expect(reader.stats.l2Hits).toBe(1);

    const keys = await inspector.keys(`${prefix}*`);
    expect(keys.length).toBe(2);
    for (const key of keys) {
      expect(key).not.toContain(TENANT);
      expect(key).not.toContain(USER);
      expect(await inspector.pttl(key)).toBeGreaterThan(0);
      const stored = (await inspector.type(key)) === 'string' ? await inspector.get(key) : (await inspector.smembers(key)).join(' ');
      for (const secret of ['eyJ', 'secret-part', TENANT, USER, 'Profile.Read']) expect(stored).not.toContain(secret);
    }
  });

  it('does not decrypt a value copied under another key', async () => {
    const prefix = uniquePrefix('moved');
    prefixes.push(prefix);
    const writer = openCache({ keyPrefix: prefix, l1MaxEntries: 0 });
    await writer.set('key-a', cachedToken('a'), Date.now() + 600_000);
    await writer.set('key-b', cachedToken('b'), Date.now() + 600_000);
    const tokenKeys = await inspector.keys(`${prefix}token:*`);
    expect(tokenKeys).toHaveLength(2);
    // Overwrite one entry with the other's ciphertext: it is bound to its own key, so it must not decrypt here.
    const valueOfFirst = await inspector.get(tokenKeys[0]!);
    await inspector.set(tokenKeys[1]!, valueOfFirst!, 'KEEPTTL');
    const answers = await Promise.all([writer.get('key-a'), writer.get('key-b')]);
    expect(answers.filter((answer) => answer === undefined)).toHaveLength(1);
    expect(writer.stats.undecryptable).toBe(1);
  });

  it('keeps old entries readable across a key rotation, and refuses them without the old key', async () => {
    const prefix = uniquePrefix('rotation');
    prefixes.push(prefix);
    await openCache({ keyPrefix: prefix, encryptionKeys: [KEY_1], l1MaxEntries: 0 }).set('rotated', cachedToken('old'), Date.now() + 600_000);
    const rotated = openCache({ keyPrefix: prefix, encryptionKeys: [KEY_2, KEY_1], l1MaxEntries: 0 });
    expect((await rotated.get('rotated'))?.accessToken).toContain('old');
    await rotated.set('fresh', cachedToken('new'), Date.now() + 600_000);
    const newKeyOnly = openCache({ keyPrefix: prefix, encryptionKeys: [KEY_2], l1MaxEntries: 0 });
    expect(await newKeyOnly.get('rotated')).toBeUndefined();
    expect((await newKeyOnly.get('fresh'))?.accessToken).toContain('new');
  });

  it('evicts a user across instances, in Redis and in the other instance’s memory', async () => {
    const prefix = uniquePrefix('evict');
    prefixes.push(prefix);
    const first = openCache({ keyPrefix: prefix });
    const second = openCache({ keyPrefix: prefix });
    await first.set('user-entry', cachedToken('user'), Date.now() + 600_000);
    expect(await second.get('user-entry')).toBeDefined();
    await first.removeUser(TENANT, USER);
    // The eviction reaches the other instance's L1 through pub/sub.
    for (let attempt = 0; attempt < 40 && (await second.get('user-entry')); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await second.get('user-entry')).toBeUndefined();
    expect(await inspector.keys(`${prefix}*`)).toEqual([]);
  });
});

describeWithRedis(
  'RedisTokenCache when Redis goes away',
  () => {
    let server: OwnRedisServer;
    let cache: RedisTokenCache;

    beforeAll(async () => {
      server = await OwnRedisServer.start();
      cache = new RedisTokenCache({ connection: server.url, encryptionKeys: [KEY_1], operationTimeoutMs: 100, breakerFailureThreshold: 3, breakerOpenDurationMs: 300, l1MaxEntries: 0 });
    });
    afterAll(async () => {
      await cache?.close();
      await server?.stop();
    });

    it('degrades to misses without throwing, opens the breaker, and recovers when Redis returns', async () => {
      await cache.set('before', cachedToken('before'), Date.now() + 600_000);
      expect(await cache.get('before')).toBeDefined();

      await server.stop();
      for (let index = 0; index < 10; index += 1) {
        expect(await cache.get(`down-${index}`)).toBeUndefined();
        await expect(cache.set(`down-${index}`, cachedToken('down'), Date.now() + 600_000)).resolves.toBeUndefined();
      }
      expect(cache.stats.breakerState).toBe('open');
      expect(cache.stats.skipped).toBeGreaterThan(0);

      await server.resume();
      let recovered = false;
      for (let attempt = 0; attempt < 60 && !recovered; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await cache.set('after', cachedToken('after'), Date.now() + 600_000);
        recovered = (await cache.get('after')) !== undefined;
      }
      expect(recovered).toBe(true);
      expect(cache.stats.breakerState).toBe('closed');
    });
  },
  { ownServer: true },
);
