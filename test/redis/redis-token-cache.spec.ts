import { createHash, randomBytes } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
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

/** What `captureStoredEntries` of the contract does for Redis: copies the token values under `prefix`, and writes them back. */
async function captureTokenValues(inspector: Redis, prefix: string): Promise<() => Promise<void>> {
  const names = await inspector.keys(`${prefix}v2:t:*`);
  const copies = await Promise.all(names.map(async (name) => ({ name, value: (await inspector.get(name))!, pttlMs: await inspector.pttl(name) })));
  return async () => {
    for (const { name, value, pttlMs } of copies) await inspector.set(name, value, 'PX', Math.max(pttlMs, 1000));
  };
}

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
      'give exactly one of client (an ioredis client) and connection (a URL or ioredis options)',
      'encryptionKeys[0] is not 32 bytes of base64 or hex',
      'encryptionKeys[1] is not 32 bytes of base64 or hex',
      'operationTimeoutMs must be an integer >= 1, got 0',
    ]);
    expect((caught as OboConfigurationError).subject).toBe('RedisTokenCache options');
    expect((caught as Error).message).toMatch(/^Invalid RedisTokenCache options:\n- give exactly one of client/);
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
    // A generous operation timeout: on a loaded 2-core machine (CI beside other work) 50 concurrent operations can pass
    // the default 100 ms, and a timed-out read is a miss the contract did not ask for. Timeouts have their own specs.
    const cache = new RedisTokenCache({ connection: REDIS_URL, encryptionKeys: [KEY_1], keyPrefix: uniquePrefix('unit'), operationTimeoutMs: 2000, ...options });
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
      return { cache: openCache({ keyPrefix: prefix }), captureStoredEntries: () => captureTokenValues(inspector, prefix) };
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
      return { cache: openCache({ keyPrefix: prefix, l1MaxEntries: 0 }), captureStoredEntries: () => captureTokenValues(inspector, prefix) };
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
    // The token, the user's index and the user's generation.
    expect(keys.length).toBe(3);
    for (const key of keys) {
      expect(key).not.toContain(TENANT);
      expect(key).not.toContain(USER);
      expect(await inspector.pttl(key)).toBeGreaterThan(0);
      const stored = (await inspector.type(key)) === 'string' ? await inspector.get(key) : (await inspector.smembers(key)).join(' ');
      for (const secret of ['secret-part', TENANT, USER, 'Profile.Read']) expect(stored).not.toContain(secret);
    }
  });

  it('does not decrypt a value copied under another key', async () => {
    const prefix = uniquePrefix('moved');
    prefixes.push(prefix);
    const writer = openCache({ keyPrefix: prefix, l1MaxEntries: 0 });
    await writer.set('key-a', cachedToken('a'), Date.now() + 600_000);
    await writer.set('key-b', cachedToken('b'), Date.now() + 600_000);
    const tokenKeys = await inspector.keys(`${prefix}v2:t:*`);
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
    // The old key dropped, the names it gave pinned (namingKey), as the README's rotation steps say.
    const newKeyOnly = openCache({ keyPrefix: prefix, encryptionKeys: [KEY_2], namingKey: KEY_1, l1MaxEntries: 0 });
    expect(await newKeyOnly.get('rotated')).toBeUndefined();
    expect((await newKeyOnly.get('fresh'))?.accessToken).toContain('new');
  });

  it('names keys with a keyed hash: not computable from a user’s ids, the same across a key rotation', async () => {
    const prefix = uniquePrefix('naming');
    prefixes.push(prefix);
    const before = openCache({ keyPrefix: prefix, encryptionKeys: [KEY_1], l1MaxEntries: 0 });
    await before.set('named', cachedToken('named'), Date.now() + 600_000);
    const names = (await inspector.keys(`${prefix}*`)).sort();
    // What anyone who can read the directory could compute under unkeyed names.
    const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
    for (const computable of [sha256(`${TENANT}|${USER}`), sha256('named')]) expect(names.join(' ')).not.toContain(computable);

    // Rotation (a new key first) keeps every name, so instances on either list share entries and evictions.
    const rotated = openCache({ keyPrefix: prefix, encryptionKeys: [KEY_2, KEY_1], l1MaxEntries: 0 });
    expect((await rotated.get('named'))?.accessToken).toContain('named');
    await rotated.set('named-after', cachedToken('after'), Date.now() + 600_000);
    // Dropping the old key with namingKey pinned to it keeps the names too.
    const pinned = openCache({ keyPrefix: prefix, encryptionKeys: [KEY_2], namingKey: KEY_1, l1MaxEntries: 0 });
    expect((await pinned.get('named-after'))?.accessToken).toContain('after');
    await pinned.removeUser(TENANT, USER);
    expect(await inspector.keys(`${prefix}*`)).toEqual([]);

    // Another naming secret, same prefix: other names altogether.
    const other = openCache({ keyPrefix: prefix, encryptionKeys: [KEY_1], namingKey: randomBytes(32).toString('base64'), l1MaxEntries: 0 });
    await other.set('named', cachedToken('named'), Date.now() + 600_000);
    const otherNames = await inspector.keys(`${prefix}*`);
    expect(otherNames).toHaveLength(3);
    for (const name of otherNames) expect(names).not.toContain(name);
  });

  it('refuses a namingKey that is not 32 bytes, without showing it', () => {
    expect(() => openCache({ namingKey: 'short' })).toThrow('Invalid RedisTokenCache options:\n- namingKey is not 32 bytes of base64 or hex');
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

/** Collects what the library logs through Nest's static Logger while a test runs. */
class CollectingLogger implements LoggerService {
  readonly lines: { level: string; text: string }[] = [];
  log(message: unknown): void {
    this.lines.push({ level: 'log', text: String(message) });
  }
  warn(message: unknown): void {
    this.lines.push({ level: 'warn', text: String(message) });
  }
  error(message: unknown): void {
    this.lines.push({ level: 'error', text: String(message) });
  }
}

describeWithRedis(
  'RedisTokenCache when Redis is slow, down, or back while the breaker is still open',
  () => {
    let server: OwnRedisServer;
    let inspector: Redis;
    const opened: RedisTokenCache[] = [];

    function openCache(options: Partial<RedisTokenCacheOptions> = {}): RedisTokenCache {
      const cache = new RedisTokenCache({ connection: server.url, encryptionKeys: [KEY_1], l1MaxEntries: 0, ...options });
      opened.push(cache);
      return cache;
    }

    /** Resolves once `condition` holds, checking every 50 ms for at most `limitMs` (a generous bound, not a timing). */
    async function eventually(condition: () => Promise<boolean>, limitMs = 10_000): Promise<boolean> {
      for (const started = Date.now(); Date.now() - started < limitMs; await new Promise((resolve) => setTimeout(resolve, 50))) {
        if (await condition()) return true;
      }
      return false;
    }

    beforeAll(async () => {
      server = await OwnRedisServer.start();
      inspector = new Redis(server.url);
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((cache) => cache.close()));
    });
    afterAll(async () => {
      inspector?.disconnect();
      await server?.stop();
    });

    it('removeUser bypasses an open breaker: it deletes once Redis answers, and rejects while it does not', async () => {
      const cache = openCache({ operationTimeoutMs: 100, breakerFailureThreshold: 1, breakerOpenDurationMs: 600_000, removeUserTimeoutMs: 500 });
      await cache.set('revoked', cachedToken('revoked'), Date.now() + 600_000);
      const stored = await inspector.keys('*');
      expect(stored.length).toBeGreaterThan(0);

      // A Redis slow for a moment (CLIENT PAUSE holds other clients' commands): one timeout opens the breaker for ten
      // minutes, though Redis answers again at once and still holds the user's entries.
      await inspector.call('CLIENT', 'PAUSE', '300');
      expect(await cache.get('revoked')).toBeUndefined();
      expect(cache.stats.breakerState).toBe('open');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await inspector.keys('*')).toEqual(stored);
      // An eviction is not skipped by the breaker.
      await cache.removeUser(TENANT, USER);
      expect(await inspector.keys('*')).toEqual([]);

      await server.stop();
      await expect(cache.removeUser(TENANT, USER)).rejects.toThrow('RedisTokenCache.removeUser: Redis did not confirm the eviction within 500 ms');
      await server.resume();
    });

    it('logs an outage once when the breaker opens and once when it closes, not at every failed probe', async () => {
      const logger = new CollectingLogger();
      Logger.overrideLogger(logger);
      try {
        const cache = openCache({ operationTimeoutMs: 100, breakerFailureThreshold: 2, breakerOpenDurationMs: 50 });
        await cache.set('logged', cachedToken('logged'), Date.now() + 600_000);
        await server.stop();
        // Enough failed probes for several half-open → open transitions.
        for (let index = 0; index < 12; index += 1) {
          await cache.get(`down-${index}`);
          await new Promise((resolve) => setTimeout(resolve, 60));
        }
        expect(cache.stats.errors).toBeGreaterThan(3);
        await server.resume();
        expect(await eventually(async () => (await cache.get('logged')) === undefined && cache.stats.breakerState === 'closed')).toBe(true);
        const outage = logger.lines.filter((line) => line.text.startsWith('Redis token cache'));
        expect(outage.map((line) => line.level)).toEqual(['warn', 'log']);
      } finally {
        Logger.overrideLogger(false);
        Logger.overrideLogger(['log', 'error', 'warn']);
      }
    });

    it('releases a lock whose SET NX timed out on our side but was applied by Redis later', async () => {
      const cache = openCache({ operationTimeoutMs: 100, keyPrefix: 'slow:' });
      await cache.set('warm-up', cachedToken('warm'), Date.now() + 600_000);
      const before = (await inspector.keys('slow:*')).sort();
      // CLIENT PAUSE holds every other client's commands for 600 ms and then runs them: a Redis that is slow, not down.
      await inspector.call('CLIENT', 'PAUSE', '600');
      const lock = await cache.tryLock('contended', 30_000);
      // Unanswered in time, yet possibly applied: handed out as ours, so the exchange goes ahead and releases it.
      expect(lock).toBeDefined();
      await lock!.release();
      // Once Redis has run the late SET and our compare-and-delete after it, no lock is left (it would live 30 s).
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(await eventually(async () => JSON.stringify((await inspector.keys('slow:*')).sort()) === JSON.stringify(before), 3000)).toBe(true);
    });
  },
  { ownServer: true },
);
