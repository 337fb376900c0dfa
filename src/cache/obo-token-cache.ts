/** A token held in the cache, with what is needed to evict it by user and to serve it without asking Entra. */
export interface CachedToken {
  accessToken: string;
  /** When the downstream token itself expires (ms since the epoch). */
  expiresOnMs: number;
  /** Scopes Entra granted. */
  scopes: string[];
  /** Tenant the token was issued in. */
  tenantId: string;
  /** Object id of the user it acts for; absent for app-only tokens. */
  userObjectId?: string;
}

/** A held lock; `release()` is idempotent. */
export interface CacheLock {
  release(): Promise<void>;
}

/**
 * The cache port: an abstract class, so it serves as both the DI token and the type. Three required members with
 * absolute expiry (never a bare TTL); further capabilities are optional members a backend may offer.
 */
export abstract class OboTokenCache {
  /** The entry, or undefined when absent or expired. */
  abstract get(key: string): Promise<CachedToken | undefined> | CachedToken | undefined;

  /** Stores `value` until `expiresAtMs` (ms since the epoch), after which `get` must not return it. */
  abstract set(key: string, value: CachedToken, expiresAtMs: number): Promise<void> | void;

  abstract delete(key: string): Promise<void> | void;

  /** Evicts every entry of one user (sign-out, revocation). Backends that cannot should leave it undefined. */
  removeUser?(tenantId: string, userObjectId: string): Promise<void> | void;

  /**
   * Cross-instance single-flight: a short lock on `key`, or undefined when another instance holds it (then the caller
   * polls `get`). Only distributed backends offer it.
   */
  tryLock?(key: string, ttlMs: number): Promise<CacheLock | undefined>;
}
