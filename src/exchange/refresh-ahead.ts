import { Logger } from '@nestjs/common';
import type { CachedToken, OboTokenCache } from '../cache/obo-token-cache.js';
import { IdentityProviderUnavailableError } from '../errors/obo-errors.js';
import { SingleFlight } from '../util/single-flight.js';
import { ThrottleMemory } from './throttle-memory.js';

/** How long a failed renewal waits before a later hit tries again (Entra's own `Retry-After` when it sent one). */
const RENEWAL_RETRY_SEC = 30;
/** How long hits leave a key alone after another instance held its lock: its renewal arrives through the cache. */
const OTHER_INSTANCE_RENEWING_SEC = 1;

/**
 * When a token is due for renewal: at Entra's `refresh_in` when it sent one (msal-common reports it as `refreshOn`),
 * else at half its life. Never later than the entry's end, so a renewal can only come before the cache drops it.
 */
export function refreshAtMs(issuedAtMs: number, token: { expiresOnMs: number; refreshOnMs?: number | undefined }, cacheUntilMs: number): number {
  const dueMs = token.refreshOnMs ?? issuedAtMs + (token.expiresOnMs - issuedAtMs) / 2;
  return Math.min(dueMs, cacheUntilMs);
}

/**
 * Refresh-ahead: a hit on an entry past its `refreshAtMs` starts one background renewal for that key (single-flight:
 * later hits while it runs start nothing) and is answered with the cached token, which is still valid. A failed
 * renewal is logged, the cached token keeps being served, and a hit after `RENEWAL_RETRY_SEC` (or Entra's
 * `Retry-After`) tries again; a token that reaches its end is then a normal miss.
 */
export class RefreshAhead {
  private readonly logger = new Logger('OboModule');
  private readonly renewals = new SingleFlight<void>();
  private readonly backoff: ThrottleMemory;

  constructor(
    private readonly nowMs: () => number,
    private readonly cache: OboTokenCache,
    private readonly lockTtlMs: number,
  ) {
    this.backoff = new ThrottleMemory(nowMs);
  }

  /** Called on a hit: starts `renew` in the background when `cached` is due and no renewal of `key` runs or waits. */
  onHit(key: string, cached: CachedToken, renew: () => Promise<unknown>): void {
    if (cached.refreshAtMs === undefined || this.nowMs() < cached.refreshAtMs) return;
    if (this.backoff.remainingSec(key) !== undefined) return;
    // A renewal of `key` already running is joined, not started again.
    void this.renewals.run(key, () =>
      this.underLock(key, renew).catch((error: unknown) => {
        const retryAfterSec = error instanceof IdentityProviderUnavailableError ? Math.max(error.retryAfterSec, 1) : RENEWAL_RETRY_SEC;
        this.backoff.remember(key, retryAfterSec);
        const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : 'unknown_error';
        this.logger.warn(`Renewing a token ahead of its expiry failed (${code}); the cached token is served until it expires, retry in ${retryAfterSec} s`);
      }),
    );
  }

  /**
   * Across instances, only the holder of the cache's lock renews: an instance that cannot take it leaves the renewal
   * to the one that did (its token arrives through the shared cache).
   */
  private async underLock(key: string, renew: () => Promise<unknown>): Promise<void> {
    if (!this.cache.tryLock) {
      await renew();
      return;
    }
    const lock = await this.cache.tryLock(key, this.lockTtlMs);
    if (!lock) {
      // Without this pause every hit here would ask Redis for the lock until the other instance's token arrives.
      this.backoff.remember(key, OTHER_INSTANCE_RENEWING_SEC);
      return;
    }
    try {
      await renew();
    } finally {
      await lock.release().catch(() => undefined);
    }
  }

  /** Resolves when no renewal runs: for shutdown, and for tests that read what a renewal stored. */
  whenIdle(): Promise<void> {
    return this.renewals.settled();
  }
}
