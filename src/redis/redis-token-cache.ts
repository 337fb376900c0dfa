// The ioredis seam is this folder: the connection and its guards (guarded-redis.ts), pub/sub for L1 (l1-mirror.ts).
import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { LongRunningSessionSettings, LongRunningSessionStore, LongRunningSessionStoreProvider } from '../cache/long-running-session-store.js';
import { OboTokenCache, type CacheHealth, type CachedToken, type CacheLock } from '../cache/obo-token-cache.js';
import type { OboClock } from '../config/obo-module-options.js';
import { countCacheHit, countCacheMiss } from '../observability/tallies.js';
import type { BreakerState } from './circuit-breaker.js';
import { GuardedRedis } from './guarded-redis.js';
import { L1Mirror } from './l1-mirror.js';
import { resolveRedisCacheOptions, type RedisTokenCacheOptions } from './redis-cache-options.js';
import { associatedData, formatEnvelope, parseEnvelope, RedisKeyNames } from './redis-key-names.js';
import { RedisSessionStore } from './redis-session-store.js';
import { FORGET_USER, PREPARE_USER_WRITE } from './user-generation-scripts.js';
import { TokenEncryption } from './token-encryption.js';

export type { RedisTokenCacheOptions } from './redis-cache-options.js';

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

const RELEASE_LOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/**
 * A two-level token cache: a bounded in-process LRU (L1) in front of Redis (L2), shared by every instance of the API.
 * Values are encrypted at rest and expire in Redis with the token. Redis being slow or down never fails a request:
 * each operation has a short timeout, a circuit breaker skips Redis while it is down (logging once per outage), and
 * the request goes on through L1 and Entra. Redis key names are HMACs under a secret key, never a tenant, user or
 * token, and cannot be computed by someone who knows a user's ids. Each user's values are bound to a per-user
 * generation that `removeUser` discards, so a value written back after an eviction does not decrypt.
 */
export class RedisTokenCache extends OboTokenCache implements LongRunningSessionStoreProvider {
  private readonly logger = new Logger('OboModule');
  private readonly redis: GuardedRedis;
  private readonly l1: L1Mirror;
  private readonly names: RedisKeyNames;
  private readonly encryption: TokenEncryption;
  private readonly removeUserTimeoutMs: number;
  private readonly operationTimeoutMs: number;
  private readonly clock: OboClock;
  private readonly counters = { l1Hits: 0, l2Hits: 0, misses: 0, undecryptable: 0 };
  private closed = false;

  constructor(options: RedisTokenCacheOptions) {
    super();
    const resolved = resolveRedisCacheOptions(options);
    this.encryption = new TokenEncryption(resolved.encryptionKeys);
    this.names = new RedisKeyNames(resolved.prefix, resolved.namingSecret);
    this.clock = resolved.clock;
    this.removeUserTimeoutMs = resolved.removeUserTimeoutMs;
    this.operationTimeoutMs = resolved.operationTimeoutMs;
    this.redis = new GuardedRedis(options, resolved);
    this.l1 = new L1Mirror(resolved.l1MaxEntries, resolved.l1MaxAgeMs, resolved.clock, this.names, this.redis.duplicate());
  }

  get stats(): RedisTokenCacheStats {
    return { ...this.counters, ...this.redis.counters, breakerState: this.redis.breakerState };
  }

  /** L1's lookups are counted by L1 itself (an `InMemoryTokenCache`); this counts the `l2` ones (`entra_obo.cache.lookups`). */
  async get(key: string): Promise<CachedToken | undefined> {
    const local = this.l1.get(key);
    if (local) {
      this.counters.l1Hits += 1;
      return local;
    }
    const redisKey = this.names.token(key);
    const found = await this.redis.run(async (client) => {
      const stored = await client.get(redisKey);
      const envelope = stored ? parseEnvelope(stored) : undefined;
      if (!envelope?.userTag) return envelope && { envelope, generation: undefined };
      // A user's value decrypts only under the user's current generation; none means the user was evicted.
      const generation = await client.get(this.names.generation(envelope.userTag));
      return generation === null ? undefined : { envelope, generation };
    });
    if (!found) {
      this.counters.misses += 1;
      countCacheMiss('l2');
      return undefined;
    }
    const plaintext = this.encryption.decrypt(found.envelope.ciphertext, associatedData(redisKey, found.envelope.userTag, found.generation));
    if (!plaintext) {
      // Logged once: after a deployment with the wrong key list every value fails, and a silent cache is the failure
      // operators find last. The count keeps growing in `stats`.
      if (this.counters.undecryptable === 0) this.logger.warn('A value in the Redis token cache did not decrypt (encrypted under a key not in encryptionKeys, written before its user was removed, or altered); it counts as a miss');
      this.counters.undecryptable += 1;
      this.counters.misses += 1;
      countCacheMiss('l2');
      return undefined;
    }
    const { value, cacheUntilMs } = JSON.parse(plaintext) as { value: CachedToken; cacheUntilMs?: unknown };
    // A value without its entry expiry (another format) is a miss, never a token kept forever.
    if (typeof cacheUntilMs !== 'number' || cacheUntilMs <= this.clock.nowMs()) {
      this.counters.misses += 1;
      countCacheMiss('l2');
      return undefined;
    }
    this.counters.l2Hits += 1;
    countCacheHit('l2');
    this.l1.remember(key, value, cacheUntilMs);
    return value;
  }

  async set(key: string, value: CachedToken, cacheUntilMs: number): Promise<void> {
    if (cacheUntilMs <= this.clock.nowMs()) return;
    this.l1.remember(key, value, cacheUntilMs);
    const redisKey = this.names.token(key);
    const plaintext = JSON.stringify({ value, cacheUntilMs });
    // Redis expires the value itself, so it never holds a dead token, even if this process dies. A relative PX (not
    // PXAT, Redis >= 6.2) keeps the expiry right when the server's clock differs from ours.
    const ttlMs = Math.max(1, Math.ceil(cacheUntilMs - this.clock.nowMs()));
    await this.redis.run(async (client) => {
      if (!value.userObjectId) {
        await client.set(redisKey, formatEnvelope(undefined, this.encryption.encrypt(plaintext, associatedData(redisKey, undefined, undefined))), 'PX', ttlMs);
        return undefined;
      }
      // Indexed before it is written, so removeUser never misses a value; encrypted under the generation read in the
      // same script, so a removeUser in between leaves a value that no longer decrypts.
      const userTag = this.names.userTag(value.tenantId, value.userObjectId);
      const generation = String(await client.eval(PREPARE_USER_WRITE, 2, this.names.userIndex(userTag), this.names.generation(userTag), redisKey, String(ttlMs), randomBytes(16).toString('base64url')));
      await client.set(redisKey, formatEnvelope(userTag, this.encryption.encrypt(plaintext, associatedData(redisKey, userTag, generation))), 'PX', ttlMs);
      return undefined;
    });
  }

  async delete(key: string): Promise<void> {
    this.l1.delete(key);
    const redisKey = this.names.token(key);
    await this.redis.run((client) => client.del(redisKey));
  }

  /**
   * Resolves once Redis has dropped the user's generation and entries and the eviction has been published to the other
   * instances; rejects when Redis does not confirm within `removeUserTimeoutMs`. Never skipped by the circuit breaker:
   * a sign-out or revocation that silently did nothing would be worse than an error.
   */
  override async removeUser(tenantId: string, userObjectId: string): Promise<void> {
    this.l1.removeUser(tenantId, userObjectId);
    const userTag = this.names.userTag(tenantId, userObjectId);
    const outcome = await this.redis.attempt(
      async (client) => {
        const names = (await client.eval(FORGET_USER, 2, this.names.userIndex(userTag), this.names.generation(userTag))) as string[];
        // One DEL per key: in a cluster the entries live in different slots.
        await Promise.all(names.map((name) => client.del(name)));
        await client.publish(this.names.invalidationChannel, userTag);
      },
      { timeoutMs: this.removeUserTimeoutMs, bypassBreaker: true },
    );
    if (!outcome.ok) throw new Error(`RedisTokenCache.removeUser: Redis did not confirm the eviction within ${this.removeUserTimeoutMs} ms; the user's entries may still be served`);
  }

  override async tryLock(key: string, ttlMs: number): Promise<CacheLock | undefined> {
    const lockKey = this.names.lock(key);
    const token = randomBytes(16).toString('base64url');
    const outcome = await this.redis.attempt((client) => client.set(lockKey, token, 'PX', ttlMs, 'NX'));
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
        await this.redis.attempt((client) => client.eval(RELEASE_LOCK, 1, lockKey, token), { timeoutMs: this.operationTimeoutMs, bypassBreaker: true });
      },
    };
  }

  /**
   * For health probes: a PING under the breaker and the operation timeout, so a probe sees Redis down even while no
   * request has used it; while the breaker is open nothing is sent (the breaker's own probe decides). A failed PING
   * counts towards opening the breaker, as any operation does.
   */
  override async health(): Promise<CacheHealth> {
    const outcome = this.closed ? { ok: false as const } : await this.redis.attempt((client) => client.ping());
    const { errors, skipped } = this.redis.counters;
    return { available: outcome.ok, details: { backend: 'redis', breaker: this.redis.breakerState, errors, skipped } };
  }

  /**
   * Long-running sessions beside the tokens, on the same connection, names, keys and per-user generations, so any
   * instance continues a session another started and `removeUser` ends them too. The module calls it.
   */
  longRunningSessionStore(settings: LongRunningSessionSettings): LongRunningSessionStore {
    return new RedisSessionStore({ redis: this.redis, names: this.names, encryption: this.encryption, clock: this.clock, removeUser: (tenantId, userObjectId) => this.removeUser(tenantId, userObjectId) }, settings);
  }

  /** Closes the connections the cache opened (the subscriber always; the client when it was not given). Idempotent. */
  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.l1.close();
    this.redis.close();
  }
}
