// The one file that imports ioredis.
import { createHash, randomBytes } from 'node:crypto';
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
const FIRST_CONNECTION_WAIT_MS = 2000;
const RELEASE_LOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
// Keeps a user's key index alive as long as their longest-lived entry (PTTL is -1 without expiry). PTTL rather than
// PEXPIRETIME or EXPIRE ... GT, which need Redis 7: managed Redis services still run 6.x.
const EXTEND_EXPIRY = "if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return 1";

class RedisTimeoutError extends Error {
  constructor(operationTimeoutMs: number) {
    super(`Redis did not answer within ${operationTimeoutMs} ms`);
  }
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * A two-level token cache: a bounded in-process LRU (L1) in front of Redis (L2), shared by every instance of the API.
 * Values are encrypted at rest and expire in Redis with the token. Redis being slow or down never fails a request:
 * each operation has a short timeout, a circuit breaker skips Redis while it is down (logging once per change), and
 * the request goes on through L1 and Entra. Redis key names hold only hashes, never a tenant, user or token.
 */
export class RedisTokenCache extends OboTokenCache {
  private readonly logger = new Logger('OboModule');
  private readonly client: Redis | Cluster;
  private readonly ownsClient: boolean;
  private readonly subscriber: Redis | Cluster;
  private readonly encryption: TokenEncryption;
  private readonly prefix: string;
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

  constructor(options: RedisTokenCacheOptions) {
    super();
    const problems: string[] = [];
    if (!options || (options.client === undefined) === (options.connection === undefined)) problems.push('give exactly one of client (an ioredis client) and connection (a URL or ioredis options)');
    const keys = Array.isArray(options?.encryptionKeys) ? options.encryptionKeys.map((key) => (typeof key === 'string' ? parseEncryptionKey(key) : undefined)) : [];
    if (keys.length === 0) problems.push('encryptionKeys: at least one key is required (32 random bytes, base64 or hex: `openssl rand -base64 32`)');
    keys.forEach((key, index) => {
      if (!key) problems.push(`encryptionKeys[${index}] is not 32 bytes of base64 or hex`);
    });
    const positive = (value: number | undefined, name: string, fallback: number, min = 1) => {
      if (value === undefined) return fallback;
      if (!Number.isInteger(value) || value < min) problems.push(`${name} must be an integer >= ${min}`);
      return value;
    };
    const l1MaxEntries = positive(options?.l1MaxEntries, 'l1MaxEntries', 10_000, 0);
    this.l1MaxAgeMs = positive(options?.l1MaxAgeMs, 'l1MaxAgeMs', 60_000);
    this.operationTimeoutMs = positive(options?.operationTimeoutMs, 'operationTimeoutMs', 100);
    const failureThreshold = positive(options?.breakerFailureThreshold, 'breakerFailureThreshold', 5);
    const openDurationMs = positive(options?.breakerOpenDurationMs, 'breakerOpenDurationMs', 5_000);
    if (options?.keyPrefix !== undefined && (typeof options.keyPrefix !== 'string' || options.keyPrefix.length === 0)) problems.push('keyPrefix must be a non-empty string');
    if (problems.length > 0) throw new OboConfigurationError(problems.map((problem) => `RedisTokenCache: ${problem}`));

    this.encryption = new TokenEncryption(keys as Buffer[]);
    this.prefix = options.keyPrefix ?? DEFAULT_PREFIX;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.l1 = l1MaxEntries > 0 ? new InMemoryTokenCache({ maxEntries: l1MaxEntries }, () => this.clock.nowMs()) : undefined;
    this.breaker = new CircuitBreaker({
      failureThreshold,
      openDurationMs,
      nowMs: () => Date.now(),
      onStateChange: (state) => {
        if (state === 'open') this.logger.warn(`Redis token cache unavailable: serving from memory and Entra for ${openDurationMs} ms before probing again`);
        else if (state === 'closed') this.logger.log('Redis token cache available again');
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
    // Narrowed per class: the two `duplicate` signatures do not unify on the union.
    this.subscriber = this.client instanceof Cluster ? this.client.duplicate() : this.client.duplicate();
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, userTag: string) => this.evictFromL1(userTag));
    this.subscriber.subscribe(this.invalidationChannel).catch(() => undefined);
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
    const stored = await this.run((client) => client.get(redisKey));
    if (!stored) {
      this.counters.misses += 1;
      return undefined;
    }
    const plaintext = this.encryption.decrypt(stored, redisKey);
    if (!plaintext) {
      // Logged once: after a deployment with the wrong key list every value fails, and a silent cache is the failure
      // operators find last. The count keeps growing in `stats`.
      if (this.counters.undecryptable === 0) this.logger.warn('A value in the Redis token cache did not decrypt (encrypted under a key not in encryptionKeys, or altered); it counts as a miss');
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
    const ciphertext = this.encryption.encrypt(JSON.stringify({ value, expiresAtMs }), redisKey);
    // Redis expires the value itself, so it never holds a dead token, even if this process dies. A relative PX (not
    // PXAT, Redis >= 6.2) keeps the expiry right when the server's clock differs from ours.
    const ttlMs = Math.max(1, Math.ceil(expiresAtMs - this.clock.nowMs()));
    await this.run(async (client) => {
      // Sent together, not one after another: one connection keeps their order, and the index key's commands go to
      // one node even in a cluster.
      const writes: Promise<unknown>[] = [client.set(redisKey, ciphertext, 'PX', ttlMs)];
      if (value.userObjectId) {
        const indexKey = this.userIndexKey(value.tenantId, value.userObjectId);
        writes.push(client.sadd(indexKey, redisKey), client.eval(EXTEND_EXPIRY, 1, indexKey, String(ttlMs)));
      }
      await Promise.all(writes);
      return undefined;
    });
  }

  async delete(key: string): Promise<void> {
    this.l1?.delete(key);
    const redisKey = this.tokenKey(key);
    await this.run((client) => client.del(redisKey));
  }

  override async removeUser(tenantId: string, userObjectId: string): Promise<void> {
    this.l1?.removeUser(tenantId, userObjectId);
    const indexKey = this.userIndexKey(tenantId, userObjectId);
    await this.run(async (client) => {
      const keys = await client.smembers(indexKey);
      // One DEL per key: in a cluster the keys live in different slots.
      await Promise.all([...keys, indexKey].map((redisKey) => client.del(redisKey)));
      await client.publish(this.invalidationChannel, this.userTag(tenantId, userObjectId));
      return undefined;
    });
  }

  override async tryLock(key: string, ttlMs: number): Promise<CacheLock | undefined> {
    const lockKey = `${this.prefix}lock:${digest(key)}`;
    const token = randomBytes(16).toString('base64url');
    const acquired = await this.run((client) => client.set(lockKey, token, 'PX', ttlMs, 'NX'), 'unavailable');
    // Without Redis there is no one to coordinate with: go ahead (single-flight still holds in this process).
    if (acquired === 'unavailable') return { release: async () => undefined };
    if (acquired !== 'OK') return undefined;
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        await this.run((client) => client.eval(RELEASE_LOCK, 1, lockKey, token));
      },
    };
  }

  /** Closes the connections the cache opened (the subscriber always; the client when it was not given). */
  async close(): Promise<void> {
    this.subscriber.disconnect();
    if (this.ownsClient) this.client.disconnect();
  }

  private get invalidationChannel(): string {
    return `${this.prefix}evict-user`;
  }

  private tokenKey(key: string): string {
    return `${this.prefix}token:${digest(key)}`;
  }

  private userTag(tenantId: string, userObjectId: string): string {
    return digest(`${tenantId.toLowerCase()}|${userObjectId.toLowerCase()}`);
  }

  private userIndexKey(tenantId: string, userObjectId: string): string {
    return `${this.prefix}user:${this.userTag(tenantId, userObjectId)}`;
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
   * Runs one Redis operation under the breaker and the timeout. A failure is counted and answered with `fallback`:
   * the cache degrades to a miss, never to an error.
   */
  private async run<T, F = undefined>(operation: (client: Redis | Cluster) => Promise<T>, fallback?: F): Promise<T | F> {
    if (!this.breaker.allows()) {
      this.counters.skipped += 1;
      return fallback as F;
    }
    if (!this.connectedOnce) await this.firstConnection;
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        operation(this.client),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RedisTimeoutError(this.operationTimeoutMs)), this.operationTimeoutMs);
        }),
      ]);
      this.breaker.recordSuccess();
      return result;
    } catch {
      this.counters.errors += 1;
      this.breaker.recordFailure();
      return fallback as F;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}
