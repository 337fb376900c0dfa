import { Inject, Injectable, Logger } from '@nestjs/common';
import { AccessTokenVerifier } from '../auth/access-token-verifier.js';
import { accessTokenOf, type EntraPrincipal } from '../auth/entra-principal.js';
import { appTokenCacheKey, oboCacheKey } from '../cache/cache-key.js';
import { OboTokenCache, type CachedToken, type CacheLock } from '../cache/obo-token-cache.js';
import type { ResolvedOboOptions } from '../config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from '../config/tokens.js';
import { AppOnlyTokenError } from '../errors/obo-errors.js';
import { MsalTokenExchanger } from './msal-token-exchanger.js';
import { SingleFlight } from './single-flight.js';

/**
 * Slack on top of one exchange attempt (`timeoutMs`) before another instance's lock counts as abandoned. One attempt,
 * not all retries: a lock left by a crashed instance (or planted) then costs a waiter about one exchange.
 */
const LOCK_MARGIN_MS = 1000;
const LOCK_POLL_INTERVAL_MS = 25;

/** A token for a downstream API. */
export interface AcquiredToken {
  accessToken: string;
  expiresOn: Date;
  scopes: string[];
  tenantId: string;
  /** True when served from the cache, without a request to Entra. */
  fromCache: boolean;
}

export interface AcquireOnBehalfOfOptions {
  /** A claims request to pass to Entra (e.g. client capabilities); part of the cache key. */
  claims?: string;
}

export interface AcquireAppTokenOptions {
  /** The tenant to get the token in. Default: the configured tenant; required for a multi-tenant API. */
  tenantId?: string;
}

function toScopeList(scopes: string | readonly string[], what: string): string[] {
  const list = (typeof scopes === 'string' ? scopes.split(' ') : [...scopes]).map((scope) => scope.trim()).filter(Boolean);
  if (list.length === 0) throw new TypeError(`${what}: at least one scope is required`);
  return list;
}

/**
 * The programmatic face of the module: On-Behalf-Of and client-credentials tokens, cached per user and per app,
 * with single-flight so concurrent misses for the same key make one request to Entra.
 */
@Injectable()
export class TokenAcquisitionService {
  private readonly logger = new Logger('OboModule');
  private readonly flights = new SingleFlight<AcquiredToken>();

  constructor(
    @Inject(OBO_RESOLVED_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly verifier: AccessTokenVerifier,
    private readonly exchanger: MsalTokenExchanger,
    private readonly cache: OboTokenCache,
  ) {}

  /**
   * A token for `scopes` (one downstream resource) on behalf of the user of `user`: a validated principal (from
   * `@CurrentUser()`), or the raw incoming access token, which is validated first.
   */
  async acquireTokenOnBehalfOf(user: EntraPrincipal | string, scopes: string | readonly string[], options: AcquireOnBehalfOfOptions = {}): Promise<AcquiredToken> {
    const scopeList = toScopeList(scopes, 'acquireTokenOnBehalfOf');
    const principal = typeof user === 'string' ? await this.verifier.verify(user) : user;
    if (principal.isAppOnly) throw new AppOnlyTokenError();
    const handle = accessTokenOf(principal);
    if (!handle) throw new TypeError('acquireTokenOnBehalfOf: pass the principal from OboAuthGuard / @CurrentUser(), or the raw access token');
    const key = oboCacheKey(handle.hash, principal.tid, scopeList, options.claims);
    const cached = await this.lookup(key);
    if (cached) return this.fromCache(cached);
    return this.acquireOnce(key, async () => {
      this.logger.debug?.(`On-Behalf-Of cache miss for tenant ${principal.tid}, scopes ${scopeList.join(' ')}`);
      const exchanged = await this.exchanger.onBehalfOf({ assertion: handle.token, tenantId: principal.tid, scopes: scopeList, ...(options.claims ? { claims: options.claims } : {}) });
      const value: CachedToken = { accessToken: exchanged.accessToken, expiresOnMs: exchanged.expiresOnMs, scopes: exchanged.scopes, tenantId: principal.tid, userObjectId: principal.oid };
      // Never outlive the downstream token (minus the margin), nor the user's own token.
      return { value, cacheUntilMs: Math.min(exchanged.expiresOnMs - this.options.refreshMarginSec * 1000, handle.expiresAtMs) };
    });
  }

  /** A client-credentials token for this API itself; `scopes` are `{resource}/.default`. */
  async acquireTokenForApp(scopes: string | readonly string[], options: AcquireAppTokenOptions = {}): Promise<AcquiredToken> {
    const scopeList = toScopeList(scopes, 'acquireTokenForApp');
    const tenantId = options.tenantId ?? (this.options.isMultiTenant ? undefined : this.options.tenantId);
    if (!tenantId) throw new TypeError('acquireTokenForApp: a multi-tenant API must say which tenant ({ tenantId })');
    const key = appTokenCacheKey(tenantId, scopeList);
    const cached = await this.lookup(key);
    if (cached) return this.fromCache(cached);
    return this.acquireOnce(key, async () => {
      const exchanged = await this.exchanger.forApp({ tenantId, scopes: scopeList });
      const value: CachedToken = { accessToken: exchanged.accessToken, expiresOnMs: exchanged.expiresOnMs, scopes: exchanged.scopes, tenantId };
      // Dropped before it expires, so the next call fetches a fresh one in time.
      return { value, cacheUntilMs: exchanged.expiresOnMs - this.options.refreshMarginSec * 1000 };
    });
  }

  /** Evicts one user's cached tokens (sign-out, revocation), where the cache supports it. */
  async removeUser(tenantId: string, userObjectId: string): Promise<void> {
    if (!this.cache.removeUser) throw new TypeError('removeUser: the configured cache does not support eviction by user');
    await this.cache.removeUser(tenantId, userObjectId);
  }

  /**
   * A miss, made once: in this process by single-flight, across instances by the cache's lock when it has one (the
   * losers wait for the winner's entry, then exchange anyway if it does not come within about one exchange).
   */
  private acquireOnce(key: string, produce: () => Promise<{ value: CachedToken; cacheUntilMs: number }>): Promise<AcquiredToken> {
    return this.flights.run(key, async () => {
      const again = await this.lookup(key);
      if (again) return this.fromCache(again);
      const lockTtlMs = this.options.timeoutMs + LOCK_MARGIN_MS;
      const outcome = await this.lockOrWait(key, lockTtlMs);
      if (outcome && 'accessToken' in outcome) return this.fromCache(outcome);
      const lock = outcome;
      try {
        const { value, cacheUntilMs } = await produce();
        await this.store(key, value, cacheUntilMs);
        return { ...this.toAcquired(value), fromCache: false };
      } finally {
        await lock?.release().catch(() => undefined);
      }
    });
  }

  /**
   * Takes the cache's cross-instance lock for `key`, or, while another instance holds it, waits for that instance's
   * entry. Returns the entry, the lock, or undefined (no lock support, or the wait of `lockTtlMs` ran out: exchange
   * anyway).
   */
  private async lockOrWait(key: string, lockTtlMs: number): Promise<CachedToken | CacheLock | undefined> {
    if (!this.cache.tryLock) return undefined;
    const deadline = Date.now() + lockTtlMs;
    for (;;) {
      const lock = await this.cache.tryLock(key, lockTtlMs);
      if (lock) {
        // A lock just freed is most often the winner's, released right after it stored its token: read once more, or
        // every instance that was waiting would take the lock in turn and exchange again.
        const entry = await this.lookup(key);
        if (!entry) return lock;
        await lock.release().catch(() => undefined);
        return entry;
      }
      if (Date.now() >= deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_INTERVAL_MS));
      // The holder stored its token, or released the lock after failing (then the next round takes it).
      const entry = await this.lookup(key);
      if (entry) return entry;
    }
  }

  private async lookup(key: string): Promise<CachedToken | undefined> {
    try {
      return await this.cache.get(key);
    } catch (error) {
      // A cache that cannot answer counts as a miss: Entra still can.
      this.logger.warn(`Reading the token cache failed: ${error instanceof Error ? error.message : 'unknown error'}`);
      return undefined;
    }
  }

  private async store(key: string, value: CachedToken, expiresAtMs: number): Promise<void> {
    if (expiresAtMs <= this.options.clock.nowMs()) return;
    try {
      await this.cache.set(key, value, expiresAtMs);
    } catch (error) {
      // A cache that cannot store must not fail the request: the token is good, only the next call will exchange again.
      this.logger.warn(`Caching a token failed: ${error instanceof Error ? error.message : 'unknown error'}`);
    }
  }

  private fromCache(value: CachedToken): AcquiredToken {
    return { ...this.toAcquired(value), fromCache: true };
  }

  private toAcquired(value: CachedToken): Omit<AcquiredToken, 'fromCache'> {
    return { accessToken: value.accessToken, expiresOn: new Date(value.expiresOnMs), scopes: value.scopes, tenantId: value.tenantId };
  }
}
