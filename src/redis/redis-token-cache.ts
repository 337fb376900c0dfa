// The one file that imports ioredis.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { InMemoryTokenCache } from '../cache/in-memory-token-cache.js';
import { OboTokenCache, type CachedToken, type CacheLock } from '../cache/obo-token-cache.js';
import type { OboClock } from '../config/obo-module-options.js';
import { SYSTEM_CLOCK } from '../config/resolve-options.js';
import { OboConfigurationError } from '../errors/obo-errors.js';
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js';
import { parseEncryptionKey, TokenEncryption } from './token-encryption.js';

export interface RedisTokenCacheOptions {
  /** An ioredis client you own (single node, Sentinel or Cluster); the cache never closes it. */
  client?: Redis | Cluster;
  /** Or a connection the cache opens (and closes on `close()`): a `redis://` URL or ioredis options. */
  connection?: string | RedisOptions;
  /**
   * AES-256-GCM keys, 32 bytes each as base64 or hex (`openssl rand -base64 32`), newest first: the first encrypts,
   * all decrypt. Rotate by putting a new key first and dropping the old one once its entries have expired.
   */
  encryptionKeys: string[];
  /**
   * The secret Redis key names are derived from (HMAC), 32 bytes as base64 or hex. Every instance sharing a prefix
   * must use the same. Default: the last (oldest) of `encryptionKeys`, so prepending a new encryption key keeps the
   * names; before dropping that last key, set `namingKey` to it (or the cache empties once, see README).
   */
  namingKey?: string;
  /**
   * How long `removeUser` waits for Redis to confirm the deletion before it rejects. It bypasses the circuit breaker
   * (an eviction must not be skipped), so this bounds what a stalled Redis costs the caller. Default 1,000 ms.
   */
  removeUserTimeoutMs?: number;
  /** Namespace of every Redis key, one per application. Default `nestjs-entra-obo:`. */
  keyPrefix?: string;
  /** Size of the in-process L1 in front of Redis (default 10,000 entries); 0 turns L1 off. */
  l1MaxEntries?: number;
  /** Longest an entry is served from L1 without asking Redis, so evictions on other instances converge. Default 60 s. */
  l1MaxAgeMs?: number;
  /** Per-operation timeout for Redis. Default 100 ms. */
  operationTimeoutMs?: number;
  /** Consecutive Redis failures that open the circuit breaker. Default 5. */
  breakerFailureThreshold?: number;
  /** How long the breaker stays open before probing Redis again. Default 5,000 ms. */
  breakerOpenDurationMs?: number;
  clock?: OboClock;
}

/** Counters for monitoring; they only grow. */
export interface RedisTokenCacheStats {
  l1Hits: number;
  l2Hits: number;
  misses: number;
  /** Redis operations that failed or timed out. */
  errors: number;
  /** Operations skipped because the breaker was open. */
  skipped: number;
  /** Values that did not decrypt (wrong key, tampered, moved). */
  undecryptable: number;
  breakerState: BreakerState;
}

const DEFAULT_PREFIX = 'nestjs-entra-obo:';
// The second layout of names: keyed (HMAC) names and per-user generations. Entries of the first layout are not read
// and expire with their tokens.
const LAYOUT = 'v2:';
const FIRST_CONNECTION_WAIT_MS = 2000;
const NAMING_KEY_INFO = 'nestjs-entra-obo redis key names v2';
const RELEASE_LOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
/**
 * Before a user's entry is written: adds it to the user's index and returns the user's generation (creating a random
 * one when there is none), each key kept alive as long as the user's longest-lived entry (PTTL is -1 without
 * expiry). KEYS: index, generation (one hash slot); ARGV: entry name, TTL ms, a fresh generation. PTTL rather than
 * PEXPIRETIME or EXPIRE ... GT, which need Redis 7: managed Redis services still run 6.x.
 */
const PREPARE_USER_WRITE = `
local generation = redis.call('GET', KEYS[2])
if not generation then
  generation = ARGV[3]
  redis.call('SET', KEYS[2], generation, 'PX', ARGV[2])
elseif redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return generation`;
/**
 * A user's eviction: drops the generation (every value of that user stops decrypting at once, even a copy written
 * back later) and the index, returning the indexed entry names. KEYS: index, generation.
 */
const FORGET_USER = "local names = redis.call('SMEMBERS', KEYS[1]) redis.call('DEL', KEYS[1], KEYS[2]) return names";

class RedisTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Redis did not answer within ${timeoutMs} ms`);
  }
}

/** How a Redis operation ended: its result, or a failure that either never reached Redis or may have. */
type Attempt<T> = { ok: true; result: T } | { ok: false; sent: boolean };

/**
 * A two-level token cache: a bounded in-process LRU (L1) in front of Redis (L2), shared by every instance of the API.
 * Values are encrypted at rest and expire in Redis with the token. Redis being slow or down never fails a request:
 * each operation has a short timeout, a circuit breaker skips Redis while it is down (logging once per outage), and
 * the request goes on through L1 and Entra. Redis key names are HMACs under a secret key, never a tenant, user or
 * token, and cannot be computed by someone who knows a user's ids. Each user's values are bound to a per-user
 * generation that `removeUser` discards, so a value written back after an eviction does not decrypt.
 */
export class RedisTokenCache extends OboTokenCache {
  private readonly logger = new Logger('OboModule');
  private readonly client: Redis | Cluster;
  private readonly ownsClient: boolean;
  private readonly subscriber: Redis | Cluster;
  private readonly encryption: TokenEncryption;
  private readonly namingKey: Buffer;
  private readonly prefix: string;
  private readonly removeUserTimeoutMs: number;
  private readonly l1: InMemoryTokenCache | undefined;
  private readonly l1MaxAgeMs: number;
  private readonly operationTimeoutMs: number;
  private readonly breaker: CircuitBreaker;
  private readonly clock: OboClock;
  /** Hashed user tag → the user's ids, for users with entries in L1 (to evict them when another instance says so). */
  private readonly l1Users = new Map<string, { tenantId: string; userObjectId: string }>();
  private readonly counters = { l1Hits: 0, l2Hits: 0, misses: 0, errors: 0, skipped: 0, undecryptable: 0 };
  /**
   * The first connection gets longer than one operation's timeout: operations timing out while it is being set up
   * would make every instance of a cold deployment skip the cross-instance lock at once.
   */
  private connectedOnce = false;
  private firstConnection: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: RedisTokenCacheOptions) {
    super();
    const problems: string[] = [];
    if (!options || (options.client === undefined) === (options.connection === undefined)) problems.push('give exactly one of client (an ioredis client) and connection (a URL or ioredis options)');
    const keys = Array.isArray(options?.encryptionKeys) ? options.encryptionKeys.map((key) => (typeof key === 'string' ? parseEncryptionKey(key) : undefined)) : [];
    if (keys.length === 0) problems.push('encryptionKeys: at least one key is required (32 random bytes, base64 or hex: `openssl rand -base64 32`)');
    keys.forEach((key, index) => {
      if (!key) problems.push(`encryptionKeys[${index}] is not 32 bytes of base64 or hex`);
    });
    const namingKey = options?.namingKey === undefined ? keys[keys.length - 1] : typeof options.namingKey === 'string' ? parseEncryptionKey(options.namingKey) : undefined;
    if (options?.namingKey !== undefined && !namingKey) problems.push('namingKey is not 32 bytes of base64 or hex');
    const positive = (value: number | undefined, name: string, fallback: number, min = 1) => {
      if (value === undefined) return fallback;
      if (!Number.isInteger(value) || value < min) problems.push(`${name} must be an integer >= ${min}`);
      return value;
    };
    const l1MaxEntries = positive(options?.l1MaxEntries, 'l1MaxEntries', 10_000, 0);
    this.l1MaxAgeMs = positive(options?.l1MaxAgeMs, 'l1MaxAgeMs', 60_000);
    this.operationTimeoutMs = positive(options?.operationTimeoutMs, 'operationTimeoutMs', 100);
    this.removeUserTimeoutMs = positive(options?.removeUserTimeoutMs, 'removeUserTimeoutMs', 1_000);
    const failureThreshold = positive(options?.breakerFailureThreshold, 'breakerFailureThreshold', 5);
    const openDurationMs = positive(options?.breakerOpenDurationMs, 'breakerOpenDurationMs', 5_000);
    if (options?.keyPrefix !== undefined && (typeof options.keyPrefix !== 'string' || options.keyPrefix.length === 0)) problems.push('keyPrefix must be a non-empty string');
    if (problems.length > 0) throw new OboConfigurationError(problems.map((problem) => `RedisTokenCache: ${problem}`));

    this.encryption = new TokenEncryption(keys as Buffer[]);
    // Derived, not used as is: the naming secret may be an encryption key, and one key must not serve two purposes.
    this.namingKey = Buffer.from(hkdfSync('sha256', namingKey!, Buffer.alloc(0), NAMING_KEY_INFO, 32));
    this.prefix = options.keyPrefix ?? DEFAULT_PREFIX;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.l1 = l1MaxEntries > 0 ? new InMemoryTokenCache({ maxEntries: l1MaxEntries }, () => this.clock.nowMs()) : undefined;
    this.breaker = new CircuitBreaker({
      failureThreshold,
      openDurationMs,
      nowMs: () => Date.now(),
      onAvailabilityChange: (available) => {
        if (available) this.logger.log('Redis token cache available again');
        else this.logger.warn(`Redis token cache unavailable: serving from memory and Entra, probing Redis every ${openDurationMs} ms`);
      },
    });
    this.ownsClient = options.client === undefined;
    // Commands issued before the connection is up wait for it (bounded by the operation timeout); during an outage the
    // breaker stops issuing them, so ioredis's offline queue cannot grow.
    this.client =
      options.client ??
      (typeof options.connection === 'string' ? new Redis(options.connection, { maxRetriesPerRequest: 1 }) : new Redis({ maxRetriesPerRequest: 1, ...options.connection }));
    this.client.on('error', () => undefined);
    if (this.client.status === 'ready') this.connectedOnce = true;
    else {
      this.firstConnection = new Promise<void>((resolve) => {
        const done = () => {
          this.connectedOnce = true;
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, FIRST_CONNECTION_WAIT_MS);
        timer.unref();
        this.client.once('ready', done);
      });
    }
    // Evictions (removeUser) reach every instance's L1 through pub/sub; a lost message is bounded by l1MaxAgeMs.
    // Narrowed per class: the two `duplicate` signatures do not unify on the union. The subscription is renewed on
    // every (re)connection here rather than by ioredis's autoResubscribe, whose SUBSCRIBE has no rejection handler: a
    // close() right after a reconnect would surface it as an unhandled "Connection is closed" rejection.
    this.subscriber = this.client instanceof Cluster ? this.client.duplicate() : this.client.duplicate({ autoResubscribe: false });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, userTag: string) => this.evictFromL1(userTag));
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(this.invalidationChannel).catch(() => undefined);
    });
  }

  get stats(): RedisTokenCacheStats {
    return { ...this.counters, breakerState: this.breaker.currentState };
  }

  async get(key: string): Promise<CachedToken | undefined> {
    const local = this.l1?.get(key);
    if (local) {
      this.counters.l1Hits += 1;
      return local;
    }
    const redisKey = this.tokenKey(key);
    const found = await this.run(async (client) => {
      const stored = await client.get(redisKey);
      const envelope = stored ? parseEnvelope(stored) : undefined;
      if (!envelope?.userTag) return envelope && { envelope, generation: undefined };
      // A user's value decrypts only under the user's current generation; none means the user was evicted.
      const generation = await client.get(this.generationKey(envelope.userTag));
      return generation === null ? undefined : { envelope, generation };
    });
    if (!found) {
      this.counters.misses += 1;
      return undefined;
    }
    const plaintext = this.encryption.decrypt(found.envelope.ciphertext, associatedData(redisKey, found.envelope.userTag, found.generation));
    if (!plaintext) {
      // Logged once: after a deployment with the wrong key list every value fails, and a silent cache is the failure
      // operators find last. The count keeps growing in `stats`.
      if (this.counters.undecryptable === 0) this.logger.warn('A value in the Redis token cache did not decrypt (encrypted under a key not in encryptionKeys, written before its user was removed, or altered); it counts as a miss');
      this.counters.undecryptable += 1;
      this.counters.misses += 1;
      return undefined;
    }
    const { value, expiresAtMs } = JSON.parse(plaintext) as { value: CachedToken; expiresAtMs: number };
    if (expiresAtMs <= this.clock.nowMs()) {
      this.counters.misses += 1;
      return undefined;
    }
    this.counters.l2Hits += 1;
    this.rememberLocally(key, value, expiresAtMs);
    return value;
  }

  async set(key: string, value: CachedToken, expiresAtMs: number): Promise<void> {
    if (expiresAtMs <= this.clock.nowMs()) return;
    this.rememberLocally(key, value, expiresAtMs);
    const redisKey = this.tokenKey(key);
    const plaintext = JSON.stringify({ value, expiresAtMs });
    // Redis expires the value itself, so it never holds a dead token, even if this process dies. A relative PX (not
    // PXAT, Redis >= 6.2) keeps the expiry right when the server's clock differs from ours.
    const ttlMs = Math.max(1, Math.ceil(expiresAtMs - this.clock.nowMs()));
    await this.run(async (client) => {
      if (!value.userObjectId) {
        await client.set(redisKey, `a:${this.encryption.encrypt(plaintext, associatedData(redisKey, undefined, undefined))}`, 'PX', ttlMs);
        return undefined;
      }
      // Indexed before it is written, so removeUser never misses a value; encrypted under the generation read in the
      // same script, so a removeUser in between leaves a value that no longer decrypts.
      const userTag = this.userTag(value.tenantId, value.userObjectId);
      const generation = String(await client.eval(PREPARE_USER_WRITE, 2, this.userIndexKey(userTag), this.generationKey(userTag), redisKey, String(ttlMs), randomBytes(16).toString('base64url')));
      await client.set(redisKey, `u:${userTag}:${this.encryption.encrypt(plaintext, associatedData(redisKey, userTag, generation))}`, 'PX', ttlMs);
      return undefined;
    });
  }

  async delete(key: string): Promise<void> {
    this.l1?.delete(key);
    const redisKey = this.tokenKey(key);
    await this.run((client) => client.del(redisKey));
  }

  /**
   * Resolves once Redis has dropped the user's generation and entries and the eviction has been published to the other
   * instances; rejects when Redis does not confirm within `removeUserTimeoutMs`. Never skipped by the circuit breaker:
   * a sign-out or revocation that silently did nothing would be worse than an error.
   */
  override async removeUser(tenantId: string, userObjectId: string): Promise<void> {
    this.l1?.removeUser(tenantId, userObjectId);
    const userTag = this.userTag(tenantId, userObjectId);
    const outcome = await this.attempt(
      async (client) => {
        const names = (await client.eval(FORGET_USER, 2, this.userIndexKey(userTag), this.generationKey(userTag))) as string[];
        // One DEL per key: in a cluster the entries live in different slots.
        await Promise.all(names.map((name) => client.del(name)));
        await client.publish(this.invalidationChannel, userTag);
      },
      { timeoutMs: this.removeUserTimeoutMs, bypassBreaker: true },
    );
    if (!outcome.ok) throw new Error(`RedisTokenCache.removeUser: Redis did not confirm the eviction within ${this.removeUserTimeoutMs} ms; the user's entries may still be served`);
  }

  override async tryLock(key: string, ttlMs: number): Promise<CacheLock | undefined> {
    const lockKey = `${this.prefix}${LAYOUT}l:${this.name('lock', key)}`;
    const token = randomBytes(16).toString('base64url');
    const outcome = await this.attempt((client) => client.set(lockKey, token, 'PX', ttlMs, 'NX'));
    // Not sent (the breaker is open): there is no one to coordinate with, go ahead (single-flight still holds here).
    if (!outcome.ok && !outcome.sent) return { release: async () => undefined };
    // Refused: another instance holds it.
    if (outcome.ok && outcome.result !== 'OK') return undefined;
    // Taken, or sent and unanswered in time: Redis may well have applied it, so it is ours to release either way. The
    // release goes out on the same connection after the SET, so compare-and-delete with our token removes it even
    // when the SET is applied late; left alone it would make every instance wait for a lock nobody holds.
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        await this.attempt((client) => client.eval(RELEASE_LOCK, 1, lockKey, token), { timeoutMs: this.operationTimeoutMs, bypassBreaker: true });
      },
    };
  }

  /** Closes the connections the cache opened (the subscriber always; the client when it was not given). Idempotent. */
  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscriber.disconnect();
    if (this.ownsClient) this.client.disconnect();
  }

  private get invalidationChannel(): string {
    return `${this.prefix}${LAYOUT}evict-user`;
  }

  /** A keyed name: without the naming key, nobody can tell which user or cache key a Redis key belongs to. */
  private name(purpose: 'token' | 'user' | 'lock', input: string): string {
    return createHmac('sha256', this.namingKey).update(`${purpose}\0${input}`).digest('base64url');
  }

  private tokenKey(key: string): string {
    return `${this.prefix}${LAYOUT}t:${this.name('token', key)}`;
  }

  /** Entra's ids are GUIDs: one user whatever the case. */
  private userTag(tenantId: string, userObjectId: string): string {
    return this.name('user', `${tenantId.toLowerCase()}|${userObjectId.toLowerCase()}`);
  }

  // The index and the generation share a hash tag, so one script can touch both in a cluster.
  private userIndexKey(userTag: string): string {
    return `${this.prefix}${LAYOUT}u:{${userTag}}`;
  }

  private generationKey(userTag: string): string {
    return `${this.prefix}${LAYOUT}g:{${userTag}}`;
  }

  private rememberLocally(key: string, value: CachedToken, expiresAtMs: number): void {
    if (!this.l1) return;
    this.l1.set(key, value, Math.min(expiresAtMs, this.clock.nowMs() + this.l1MaxAgeMs));
    if (value.userObjectId) {
      this.l1Users.set(this.userTag(value.tenantId, value.userObjectId), { tenantId: value.tenantId, userObjectId: value.userObjectId });
      // The map only names users; bound it with L1 (stale names just evict nothing).
      if (this.l1Users.size > this.l1.maxEntries) this.l1Users.delete(this.l1Users.keys().next().value!);
    }
  }

  private evictFromL1(userTag: string): void {
    const user = this.l1Users.get(userTag);
    if (!user) return;
    this.l1?.removeUser(user.tenantId, user.userObjectId);
    this.l1Users.delete(userTag);
  }

  /**
   * Runs one Redis operation under the breaker and the operation timeout. A failure is counted and answered with
   * undefined: the cache degrades to a miss, never to an error.
   */
  private async run<T>(operation: (client: Redis | Cluster) => Promise<T>): Promise<T | undefined> {
    const outcome = await this.attempt(operation);
    return outcome.ok ? outcome.result : undefined;
  }

  /**
   * One Redis operation, skipped while the breaker is open unless `bypassBreaker`, and bounded by the operation
   * timeout (after the first connection is up), or by `timeoutMs` including that wait. Says whether a failed
   * operation may have reached Redis.
   */
  private async attempt<T>(operation: (client: Redis | Cluster) => Promise<T>, settings: { timeoutMs?: number; bypassBreaker?: boolean } = {}): Promise<Attempt<T>> {
    if (!settings.bypassBreaker && !this.breaker.allows()) {
      this.counters.skipped += 1;
      return { ok: false, sent: false };
    }
    if (!this.connectedOnce && settings.timeoutMs === undefined) await this.firstConnection;
    const timeoutMs = settings.timeoutMs ?? this.operationTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisTimeoutError(timeoutMs)), timeoutMs);
    });
    try {
      const result = await Promise.race([
        (async () => {
          if (!this.connectedOnce) await this.firstConnection;
          return operation(this.client);
        })(),
        timeout,
      ]);
      this.breaker.recordSuccess();
      return { ok: true, result };
    } catch {
      this.counters.errors += 1;
      this.breaker.recordFailure();
      return { ok: false, sent: true };
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}

interface Envelope {
  /** The owner's keyed tag; undefined for an app token. */
  userTag: string | undefined;
  ciphertext: string;
}

/** A stored value: `u:{user tag}:{ciphertext}` for a user's token, `a:{ciphertext}` for an app token. */
function parseEnvelope(stored: string): Envelope | undefined {
  if (stored.startsWith('a:')) return { userTag: undefined, ciphertext: stored.slice(2) };
  const match = /^u:([A-Za-z0-9_-]+):(.+)$/.exec(stored);
  return match ? { userTag: match[1], ciphertext: match[2]! } : undefined;
}

/**
 * What a value is bound to: its Redis key (a value copied under another key does not decrypt), its kind and owner
 * (an envelope rewritten to another user or to an app token does not decrypt), and the owner's generation.
 */
function associatedData(redisKey: string, userTag: string | undefined, generation: string | undefined): string {
  return userTag ? `${redisKey}|u|${userTag}|${generation}` : `${redisKey}|a`;
}
