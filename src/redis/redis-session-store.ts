import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { LongRunningSessionStore, type LongRunningSession, type LongRunningSessionSettings } from '../cache/long-running-session-store.js';
import type { OboClock } from '../config/obo-module-options.js';
import { IdentityProviderUnavailableError } from '../errors/obo-errors.js';
import type { GuardedRedis } from './guarded-redis.js';
import { associatedData, formatEnvelope, parseEnvelope, type RedisKeyNames } from './redis-key-names.js';
import { PREPARE_USER_WRITE } from './user-generation-scripts.js';
import type { TokenEncryption } from './token-encryption.js';

/**
 * Writes a session and keeps the sessions bounded. KEYS: session, LRU index (one hash tag); ARGV: envelope, idle ms,
 * now ms, maxSessions, mode. `update` writes only over a session that still exists (-1 otherwise). Index members
 * older than the idle limit have expired in Redis already and are dropped. Over `maxSessions`, members whose session
 * is gone (a removed user's) are dropped first, so they never cost a live session its place (a full pass, but only at
 * the bound); then the least recently used sessions are deleted. Returns how many live sessions were evicted.
 */
const WRITE_SESSION = `
if ARGV[5] == 'update' and redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (tonumber(ARGV[3]) - tonumber(ARGV[2])))
redis.call('ZADD', KEYS[2], ARGV[3], KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local max = tonumber(ARGV[4])
if redis.call('ZCARD', KEYS[2]) <= max then return 0 end
for _, name in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('EXISTS', name) == 0 then redis.call('ZREM', KEYS[2], name) end
end
local excess = redis.call('ZCARD', KEYS[2]) - max
if excess <= 0 then return 0 end
local oldest = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
for _, name in ipairs(oldest) do redis.call('DEL', name) end
redis.call('ZREM', KEYS[2], unpack(oldest))
return excess`;
/** A read that counts as a use: the session's value, its place in the LRU index moved to now. */
const READ_SESSION = "local value = redis.call('GET', KEYS[1]) if value then redis.call('ZADD', KEYS[2], 'XX', ARGV[1], KEYS[1]) end return value";
const DELETE_SESSION = "redis.call('ZREM', KEYS[2], KEYS[1]) return redis.call('DEL', KEYS[1])";

/** What a session store shares with its `RedisTokenCache`. */
export interface RedisSessionStoreParts {
  redis: GuardedRedis;
  names: RedisKeyNames;
  encryption: TokenEncryption;
  clock: OboClock;
  /** The cache's eviction of a user, which also drops the sessions it indexed and the user's generation. */
  removeUser(tenantId: string, userObjectId: string): Promise<void>;
}

/**
 * Long-running sessions in Redis, made by `RedisTokenCache.longRunningSessionStore`: a refresh token is encrypted
 * (AES-256-GCM, bound to its Redis name, its user and the user's generation) under a keyed name that says nothing
 * of the session key or the user, expires in Redis after the idle limit, and is indexed under its user, so
 * `removeUser` deletes it and makes any copy written back undecryptable. Unlike the token cache, a Redis that cannot
 * answer is an error, not a miss: a session must not look ended because Redis was slow.
 */
export class RedisSessionStore extends LongRunningSessionStore {
  constructor(
    private readonly parts: RedisSessionStoreParts,
    private readonly settings: LongRunningSessionSettings,
  ) {
    super();
  }

  async get(sessionKey: string): Promise<LongRunningSession | undefined> {
    const { names, encryption } = this.parts;
    const name = names.session(sessionKey);
    const found = await this.run(async (client) => {
      const stored = (await client.eval(READ_SESSION, 2, name, names.sessionIndex, String(this.parts.clock.nowMs()))) as string | null;
      const envelope = stored ? parseEnvelope(stored) : undefined;
      if (!envelope?.userTag) return undefined;
      const generation = await client.get(names.generation(envelope.userTag));
      return generation === null ? undefined : { envelope, generation };
    });
    if (!found) return undefined;
    // Undecryptable (its user was removed, another key, altered): as good as absent.
    const plaintext = encryption.decrypt(found.envelope.ciphertext, associatedData(name, found.envelope.userTag, found.generation));
    return plaintext === undefined ? undefined : sessionFrom(plaintext, this.parts.clock.nowMs());
  }

  start(sessionKey: string, session: LongRunningSession): Promise<void> {
    return this.write(sessionKey, session, 'start');
  }

  update(sessionKey: string, session: LongRunningSession): Promise<void> {
    return this.write(sessionKey, session, 'update');
  }

  async delete(sessionKey: string): Promise<void> {
    const { names } = this.parts;
    await this.run((client) => client.eval(DELETE_SESSION, 2, names.session(sessionKey), names.sessionIndex));
  }

  removeUser(tenantId: string, userObjectId: string): Promise<void> {
    return this.parts.removeUser(tenantId, userObjectId);
  }

  private async write(sessionKey: string, session: LongRunningSession, mode: 'start' | 'update'): Promise<void> {
    const { names, encryption, clock } = this.parts;
    const name = names.session(sessionKey);
    const userTag = names.userTag(session.tenantId, session.userObjectId);
    const idleMs = String(this.settings.idleTimeoutSec * 1000);
    await this.run(async (client) => {
      // Indexed under its user before it is written (removeUser never misses it), encrypted under the generation
      // that script returns (a removeUser in between leaves a value that no longer decrypts).
      const generation = String(await client.eval(PREPARE_USER_WRITE, 2, names.userIndex(userTag), names.generation(userTag), name, idleMs, randomBytes(16).toString('base64url')));
      // The idle limit travels inside the value too, judged by the module's clock as the token cache judges its
      // entries: Redis's own expiry (the same instant, on the server's clock) removes it even if no instance runs.
      const stored: StoredSession = { ...session, idleUntilMs: clock.nowMs() + this.settings.idleTimeoutSec * 1000 };
      const envelope = formatEnvelope(userTag, encryption.encrypt(JSON.stringify(stored), associatedData(name, userTag, generation)));
      return client.eval(WRITE_SESSION, 2, name, names.sessionIndex, envelope, idleMs, String(clock.nowMs()), String(this.settings.maxSessions), mode);
    });
  }

  /** One guarded operation; a Redis that is down or slow is an error the caller can retry, never "no session". */
  private async run<T>(operation: (client: Redis | Cluster) => Promise<T>): Promise<T> {
    const outcome = await this.parts.redis.attempt(operation);
    if (!outcome.ok) throw new IdentityProviderUnavailableError('The long-running session store (Redis) did not answer; try again shortly.', 5);
    return outcome.result;
  }
}

type StoredSession = LongRunningSession & { idleUntilMs: number };

/** A stored session, checked field by field: anything else (another format), or one idle past its limit, is none. */
function sessionFrom(plaintext: string, nowMs: number): LongRunningSession | undefined {
  try {
    const { refreshToken, tenantId, userObjectId, idleUntilMs } = JSON.parse(plaintext) as Partial<StoredSession>;
    if (typeof refreshToken !== 'string' || typeof tenantId !== 'string' || typeof userObjectId !== 'string') return undefined;
    if (typeof idleUntilMs !== 'number' || idleUntilMs <= nowMs) return undefined;
    return { refreshToken, tenantId, userObjectId };
  } catch {
    return undefined;
  }
}
