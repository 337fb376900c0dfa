/** A token held in the cache, with what is needed to evict it by user and to serve it without asking Entra. */
export interface CachedToken {
  accessToken: string;
  /**
   * When the downstream token itself expires (ms since the epoch). A token's expiry is `expiresOnMs` everywhere; a
   * cache entry's end is `cacheUntilMs` (earlier: the refresh margin, the caller's own token).
   */
  expiresOnMs: number;
  /** Scopes Entra granted. */
  scopes: string[];
  /** Tenant the token was issued in. */
  tenantId: string;
  /** Object id of the user it acts for; absent for app-only tokens. */
  userObjectId?: string;
  /** The `client-request-id` of the exchange that produced it; a cache hit reports the original exchange's id. */
  correlationId?: string;
  /** When a hit should start a background renewal (refresh-ahead; app tokens); absent: never ahead of expiry. */
  refreshAtMs?: number;
}

/** A held lock; `release()` is idempotent. */
export interface CacheLock {
  release(): Promise<void>;
}

/** A cache's state as a health probe reports it. */
export interface CacheHealth {
  /**
   * Whether the cache's store answers. A shared store that does not (Redis down) degrades the API, it does not stop
   * it: requests go on through memory and Entra.
   */
  available: boolean;
  /** What to show beside it (backend, breaker state, counters): never a key, a token or a connection secret. */
  details: Record<string, string | number | boolean>;
}

/**
 * The cache port: an abstract class, so it serves as both the DI token and the type. Three required members with
 * absolute expiry (never a bare TTL); further capabilities are optional members a backend may offer.
 */
export abstract class OboTokenCache {
  /** The entry, or undefined when absent or expired. */
  abstract get(key: string): Promise<CachedToken | undefined> | CachedToken | undefined;

  /** Stores `value` until `cacheUntilMs` (ms since the epoch), after which `get` must not return it. */
  abstract set(key: string, value: CachedToken, cacheUntilMs: number): Promise<void> | void;

  abstract delete(key: string): Promise<void> | void;

  /**
   * Evicts every entry of one user (sign-out, revocation); ids compare case-insensitively (they are GUIDs). Returns
   * only once it is done, and throws (rejects) when it cannot confirm it: an eviction must never silently do nothing.
   * A backend whose storage others can write to should also make the user's earlier stored values unusable even if
   * they are written back (e.g. bind a per-user generation, discarded here, into their authenticated encryption).
   * Backends that cannot evict by user should leave it undefined.
   */
  removeUser?(tenantId: string, userObjectId: string): Promise<void> | void;

  /**
   * Cross-instance single-flight: a short lock on `key` that expires by itself after `ttlMs`, or undefined when
   * another instance holds it (then the caller polls `get`). Only distributed backends offer it.
   */
  tryLock?(key: string, ttlMs: number): Promise<CacheLock | undefined>;

  /**
   * The cache's state for health probes (`nestjs-entra-obo/terminus`), e.g. whether Redis answers. Called on every
   * probe, so it should be cheap and never wait longer than one operation's timeout. A cache without it is reported
   * as present, its state unknown.
   */
  health?(): Promise<CacheHealth> | CacheHealth;

  /** Releases connections and timers; the module calls it when the application shuts down. Idempotent. */
  close?(): Promise<void> | void;
}
