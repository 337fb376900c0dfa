import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { OboClock } from '../config/obo-module-options.js';
import { SYSTEM_CLOCK } from '../config/resolve-options.js';
import { Problems, type OptionNameTable } from '../util/problems.js';
import { parseEncryptionKey } from './token-encryption.js';

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

/** The options once checked: keys parsed, defaults applied. */
export interface ResolvedRedisCacheOptions {
  encryptionKeys: Buffer[];
  /** What key names are derived from (not yet derived). */
  namingSecret: Buffer;
  prefix: string;
  l1MaxEntries: number;
  l1MaxAgeMs: number;
  operationTimeoutMs: number;
  removeUserTimeoutMs: number;
  breakerFailureThreshold: number;
  breakerOpenDurationMs: number;
  clock: OboClock;
}

const DEFAULT_PREFIX = 'nestjs-entra-obo:';

/** Every option's name, checked against `RedisTokenCacheOptions` by the compiler. */
const OPTION_NAMES: OptionNameTable<RedisTokenCacheOptions> = {
  client: true, connection: true, encryptionKeys: true, namingKey: true, removeUserTimeoutMs: true, keyPrefix: true, l1MaxEntries: true,
  l1MaxAgeMs: true, operationTimeoutMs: true, breakerFailureThreshold: true, breakerOpenDurationMs: true, clock: true,
};

/** Checks every option at once; the one `OboConfigurationError` names options, never a key's value. */
export function resolveRedisCacheOptions(options: RedisTokenCacheOptions): ResolvedRedisCacheOptions {
  const problems = new Problems('RedisTokenCache options');
  if (typeof options === 'object' && options !== null) problems.unknownOptions(options, OPTION_NAMES);
  if (!options || (options.client === undefined) === (options.connection === undefined)) problems.add('give exactly one of client (an ioredis client) and connection (a URL or ioredis options)');
  const keys = Array.isArray(options?.encryptionKeys) ? options.encryptionKeys.map((key) => (typeof key === 'string' ? parseEncryptionKey(key) : undefined)) : [];
  if (keys.length === 0) problems.add('encryptionKeys: at least one key is required (32 random bytes, base64 or hex: `openssl rand -base64 32`)');
  keys.forEach((key, index) => {
    if (!key) problems.add(`encryptionKeys[${index}] is not 32 bytes of base64 or hex`);
  });
  const namingSecret = options?.namingKey === undefined ? keys[keys.length - 1] : typeof options.namingKey === 'string' ? parseEncryptionKey(options.namingKey) : undefined;
  if (options?.namingKey !== undefined && !namingSecret) problems.add('namingKey is not 32 bytes of base64 or hex');
  const resolved = {
    l1MaxEntries: problems.integerIn(options?.l1MaxEntries, 'l1MaxEntries', { min: 0 }, 10_000),
    l1MaxAgeMs: problems.integerIn(options?.l1MaxAgeMs, 'l1MaxAgeMs', { min: 1 }, 60_000),
    operationTimeoutMs: problems.integerIn(options?.operationTimeoutMs, 'operationTimeoutMs', { min: 1 }, 100),
    removeUserTimeoutMs: problems.integerIn(options?.removeUserTimeoutMs, 'removeUserTimeoutMs', { min: 1 }, 1_000),
    breakerFailureThreshold: problems.integerIn(options?.breakerFailureThreshold, 'breakerFailureThreshold', { min: 1 }, 5),
    breakerOpenDurationMs: problems.integerIn(options?.breakerOpenDurationMs, 'breakerOpenDurationMs', { min: 1 }, 5_000),
  };
  const prefix = problems.nonEmptyString(options?.keyPrefix, 'keyPrefix', DEFAULT_PREFIX);
  if (options?.clock !== undefined && typeof options.clock?.nowMs !== 'function') problems.add('clock must have a nowMs() method');
  problems.throwIfAny();
  return {
    ...resolved,
    encryptionKeys: keys as Buffer[],
    namingSecret: namingSecret!,
    prefix,
    clock: options.clock ?? SYSTEM_CLOCK,
  };
}
