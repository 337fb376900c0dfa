import { Logger } from '@nestjs/common';
import type { CachedToken, OboTokenCache } from '../cache/obo-token-cache.js';
import type { ResolvedOboOptions } from '../config/resolve-options.js';
import { IdentityProviderUnavailableError } from '../errors/obo-errors.js';
import { SingleFlight } from '../util/single-flight.js';
import { acquiredToken, type AcquiredToken } from './acquired-token.js';
import { lockOrWait } from './cross-instance-lock.js';
import { RefreshAhead } from './refresh-ahead.js';
import { ThrottleMemory } from './throttle-memory.js';

/** Makes one token: what to cache and until when. */
export type ProduceToken = () => Promise<{ value: CachedToken; cacheUntilMs: number }>;

/**
 * Slack on top of one exchange attempt (`timeoutMs`) before another instance's lock counts as abandoned. One attempt,
 * not all retries: a lock left by a crashed instance (or planted) then costs a waiter about one exchange.
 */
const LOCK_MARGIN_MS = 1000;

/**
 * The way every token goes, whatever its flow (On-Behalf-Of, app, long-running session): the cache read (a cache
 * that fails is a miss), single-flight per key in this process and the cache's lock across instances, the memory of
 * Entra's throttling, the store (a cache that fails does not fail the request), and refresh-ahead on hits.
 */
export class TokenPath {
  private readonly logger = new Logger('OboModule');
  private readonly flights = new SingleFlight<AcquiredToken>();
  private readonly throttled: ThrottleMemory;
  private readonly refreshAhead: RefreshAhead;
  /** A cross-instance lock lasts one exchange attempt plus the margin: a crashed holder costs a waiter about one exchange. */
  private readonly lockTtlMs: number;

  constructor(
    private readonly cache: OboTokenCache,
    private readonly options: Pick<ResolvedOboOptions, 'clock' | 'timeoutMs'>,
  ) {
    this.throttled = new ThrottleMemory(() => options.clock.nowMs());
    this.lockTtlMs = options.timeoutMs + LOCK_MARGIN_MS;
    this.refreshAhead = new RefreshAhead(() => options.clock.nowMs(), cache, this.lockTtlMs);
  }

  async lookup(key: string): Promise<CachedToken | undefined> {
    try {
      return await this.cache.get(key);
    } catch (error) {
      // A cache that cannot answer counts as a miss: Entra still can.
      this.logger.warn(`Reading the token cache failed: ${error instanceof Error ? error.message : 'unknown error'}`);
      return undefined;
    }
  }

  /** A miss, made once (see `acquireOnce`), unless Entra's `Retry-After` for `key` still runs. */
  acquire(key: string, deadlineAtMs: number, produce: ProduceToken): Promise<AcquiredToken> {
    return this.throttledOr(key, () => this.acquireOnce(key, deadlineAtMs, produce));
  }

  /** An exchange in a flight of its own (`flightKey`), stored under `key`: a claims challenge's, which joins no other. */
  exchangeAlone(flightKey: string, key: string, produce: ProduceToken): Promise<AcquiredToken> {
    return this.throttledOr(key, () => this.flights.run(flightKey, () => this.exchangeAndStore(key, produce)));
  }

  /** A hit: one background renewal when the entry is due, through the throttling memory like any request. */
  renewAhead(key: string, cached: CachedToken, produce: ProduceToken): void {
    this.refreshAhead.onHit(key, cached, () => this.throttledOr(key, () => this.exchangeAndStore(key, produce)));
  }

  /** Resolves when no background renewal runs. */
  renewalsSettled(): Promise<void> {
    return this.refreshAhead.whenIdle();
  }

  async exchangeAndStore(key: string, produce: ProduceToken): Promise<AcquiredToken> {
    const { value, cacheUntilMs } = await produce();
    await this.store(key, value, cacheUntilMs);
    return acquiredToken(value, false);
  }

  /**
   * Answers locally while Entra's `Retry-After` for `key` runs, and remembers a new 429: repeating a throttled request
   * only extends the throttling, and the caller is told how long to wait either way.
   */
  private async throttledOr(key: string, acquire: () => Promise<AcquiredToken>): Promise<AcquiredToken> {
    const remainingSec = this.throttled.remainingSec(key);
    if (remainingSec !== undefined) throw new IdentityProviderUnavailableError('The identity provider throttled this token request; it is not sent again before its Retry-After.', remainingSec, {}, { throttled: true });
    try {
      return await acquire();
    } catch (error) {
      if (error instanceof IdentityProviderUnavailableError && error.throttled) this.throttled.remember(key, error.retryAfterSec);
      throw error;
    }
  }

  /**
   * A miss, made once: in this process by single-flight, across instances by the cache's lock when it has one (the
   * losers wait for the winner's entry, then exchange anyway if it does not come within about one exchange).
   */
  private acquireOnce(key: string, deadlineAtMs: number, produce: ProduceToken): Promise<AcquiredToken> {
    return this.flights.run(key, async () => {
      const again = await this.lookup(key);
      if (again) return acquiredToken(again, true);
      const outcome = await lockOrWait(this.cache, (entryKey) => this.lookup(entryKey), key, this.lockTtlMs, deadlineAtMs);
      if (outcome && 'accessToken' in outcome) return acquiredToken(outcome, true);
      const lock = outcome;
      try {
        return await this.exchangeAndStore(key, produce);
      } finally {
        await lock?.release().catch(() => undefined);
      }
    });
  }

  private async store(key: string, value: CachedToken, cacheUntilMs: number): Promise<void> {
    if (cacheUntilMs <= this.options.clock.nowMs()) return;
    try {
      await this.cache.set(key, value, cacheUntilMs);
    } catch (error) {
      // A cache that cannot store must not fail the request: the token is good, only the next call will exchange again.
      this.logger.warn(`Caching a token failed: ${error instanceof Error ? error.message : 'unknown error'}`);
    }
  }
}
