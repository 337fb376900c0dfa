import { createHmac, hkdfSync } from 'node:crypto';

// The second layout of names: keyed (HMAC) names and per-user generations. Entries of the first layout are not read
// and expire with their tokens.
const LAYOUT = 'v2:';
const NAMING_KEY_INFO = 'nestjs-entra-obo redis key names v2';

/**
 * Every name the cache gives Redis: HMACs under a key derived from the naming secret, so no tenant, user, scope or
 * token appears in Redis, and someone who knows a user's ids cannot compute which keys are theirs.
 */
export class RedisKeyNames {
  private readonly namingKey: Buffer;
  /** The pub/sub channel that carries evictions to every instance's L1. */
  readonly invalidationChannel: string;

  constructor(
    private readonly prefix: string,
    namingSecret: Buffer,
  ) {
    // Derived, not used as is: the naming secret may be an encryption key, and one key must not serve two purposes.
    this.namingKey = Buffer.from(hkdfSync('sha256', namingSecret, Buffer.alloc(0), NAMING_KEY_INFO, 32));
    this.invalidationChannel = `${prefix}${LAYOUT}evict-user`;
  }

  token(cacheKey: string): string {
    return `${this.prefix}${LAYOUT}t:${this.keyed('token', cacheKey)}`;
  }

  lock(cacheKey: string): string {
    return `${this.prefix}${LAYOUT}l:${this.keyed('lock', cacheKey)}`;
  }

  /**
   * A long-running session (its encrypted refresh token), by the keyed hash of its session key. Every session shares
   * one hash tag with the sessions' LRU index, so one script writes both in a cluster.
   */
  session(sessionKey: string): string {
    return `${this.prefix}${LAYOUT}s:{sessions}:${this.keyed('session', sessionKey)}`;
  }

  /** The sorted set of sessions by last use, which bounds their number (`maxSessions`). */
  get sessionIndex(): string {
    return `${this.prefix}${LAYOUT}s:{sessions}:lru`;
  }

  /** A user's keyed tag. Entra's ids are GUIDs: one user whatever the case. */
  userTag(tenantId: string, userObjectId: string): string {
    return this.keyed('user', `${tenantId.toLowerCase()}|${userObjectId.toLowerCase()}`);
  }

  // The index and the generation share a hash tag, so one script can touch both in a cluster.
  userIndex(userTag: string): string {
    return `${this.prefix}${LAYOUT}u:{${userTag}}`;
  }

  generation(userTag: string): string {
    return `${this.prefix}${LAYOUT}g:{${userTag}}`;
  }

  private keyed(purpose: 'token' | 'user' | 'lock' | 'session', input: string): string {
    return createHmac('sha256', this.namingKey).update(`${purpose}\0${input}`).digest('base64url');
  }
}

/** A stored value, before decryption. */
export interface Envelope {
  /** The owner's keyed tag; undefined for an app token. */
  userTag: string | undefined;
  ciphertext: string;
}

/** `u:{user tag}:{ciphertext}` for a user's token, `a:{ciphertext}` for an app token. */
export function formatEnvelope(userTag: string | undefined, ciphertext: string): string {
  return userTag ? `u:${userTag}:${ciphertext}` : `a:${ciphertext}`;
}

export function parseEnvelope(stored: string): Envelope | undefined {
  if (stored.startsWith('a:')) return { userTag: undefined, ciphertext: stored.slice(2) };
  const match = /^u:([A-Za-z0-9_-]+):(.+)$/.exec(stored);
  return match ? { userTag: match[1], ciphertext: match[2]! } : undefined;
}

/**
 * What a value is bound to: its Redis key (a value copied under another key does not decrypt), its kind and owner
 * (an envelope rewritten to another user or to an app token does not decrypt), and the owner's generation.
 */
export function associatedData(redisKey: string, userTag: string | undefined, generation: string | undefined): string {
  return userTag ? `${redisKey}|u|${userTag}|${generation}` : `${redisKey}|a`;
}
