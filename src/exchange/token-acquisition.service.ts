import { Inject, Injectable, Logger } from '@nestjs/common';
import { AccessTokenVerifier } from '../auth/access-token-verifier.js';
import { accessTokenOf, type EntraPrincipal } from '../auth/entra-principal.js';
import { appTokenCacheKey, oboCacheKey, type CacheKeyContext } from '../cache/cache-key.js';
import { OboTokenCache, type CachedToken, type CacheLock } from '../cache/obo-token-cache.js';
import type { ResolvedOboOptions } from '../config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from '../config/tokens.js';
import { AuthorityMetadataClient } from '../discovery/authority-metadata.js';
import { tenantIdOfIssuer } from '../discovery/issuer-tenant.js';
import { AppOnlyTokenError, IdentityProviderUnavailableError } from '../errors/obo-errors.js';
import { appTokenTenant } from './app-token-tenant.js';
import { scopeListProblems, toScopeList, type ScopeFlow } from '../scopes/downstream-scopes.js';
import { MsalTokenExchanger } from '../msal/msal-token-exchanger.js';
import { SingleFlight } from '../util/single-flight.js';
import { ThrottleMemory } from './throttle-memory.js';

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
  /**
   * A claims challenge from a downstream API (the decoded `claims` of its `WWW-Authenticate`, e.g. Continuous Access
   * Evaluation or an authentication context). The exchange then always goes to Entra, and its token replaces the cached
   * one for this user token and scopes, so later calls get the token that satisfies the challenge.
   */
  claims?: string;
}

export interface AcquireAppTokenOptions {
  /**
   * The tenant to get the token in. Default: the configured tenant. A single-tenant API accepts only its own tenant
   * (its id or domain); a multi-tenant API requires a tenant id (GUID) its `allowedTenants` (or `allowAnyTenant`) accept.
   */
  tenantId?: string;
}


function checkedScopes(scopes: string | readonly string[], flow: ScopeFlow, what: string): string[] {
  const list = toScopeList(scopes);
  const problems = scopeListProblems(list, flow);
  if (problems.length > 0) throw new TypeError(`${what}: ${problems.join('; ')}`);
  return list;
}

/**
 * The programmatic face of the module: On-Behalf-Of and client-credentials tokens, cached per user and per app,
 * with single-flight so concurrent misses for the same key make one request to Entra, and a memory of throttling so a
 * request Entra throttled is not sent again before its `Retry-After`.
 */
@Injectable()
export class TokenAcquisitionService {
  private readonly logger = new Logger('OboModule');
  private readonly flights = new SingleFlight<AcquiredToken>();
  private readonly throttled: ThrottleMemory;
  private readonly keyContext: CacheKeyContext;

  constructor(
    @Inject(OBO_RESOLVED_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly verifier: AccessTokenVerifier,
    private readonly exchanger: MsalTokenExchanger,
    private readonly cache: OboTokenCache,
    private readonly metadata: AuthorityMetadataClient,
  ) {
    this.throttled = new ThrottleMemory(() => options.clock.nowMs());
    this.keyContext = { clientId: options.clientId, authorityHost: options.authorityHost };
  }

  /**
   * A token for `scopes` (one downstream resource) on behalf of the user of `user`: a validated principal (from
   * `@CurrentUser()`), or the raw incoming access token, which is validated first.
   */
  async acquireTokenOnBehalfOf(user: EntraPrincipal | string, scopes: string | readonly string[], options: AcquireOnBehalfOfOptions = {}): Promise<AcquiredToken> {
    const scopeList = checkedScopes(scopes, 'on-behalf-of', 'acquireTokenOnBehalfOf');
    const principal = await this.trustedPrincipal(user);
    if (principal.isAppOnly) throw new AppOnlyTokenError();
    const handle = accessTokenOf(principal)!;
    const deadlineAtMs = Date.now() + this.options.deadlineMs;
    const key = oboCacheKey(this.keyContext, handle.hash, principal.tid, scopeList);
    const claims = options.claims || undefined;
    if (!claims) {
      const cached = await this.lookup(key);
      if (cached) return this.fromCache(cached);
    }
    const produce = async () => {
      this.logger.debug?.(`On-Behalf-Of ${claims ? 'exchange for a claims challenge' : 'cache miss'} for tenant ${principal.tid}, scopes ${scopeList.join(' ')}`);
      const exchanged = await this.exchanger.onBehalfOf({ assertion: handle.token, tenantId: principal.tid, scopes: scopeList, deadlineAtMs, ...(claims ? { claims } : {}) });
      const value: CachedToken = { accessToken: exchanged.accessToken, expiresOnMs: exchanged.expiresOnMs, scopes: exchanged.scopes, tenantId: principal.tid, userObjectId: principal.oid };
      // Never outlive the downstream token (minus the margin), nor the user's own token.
      return { value, cacheUntilMs: Math.min(exchanged.expiresOnMs - this.options.refreshMarginSec * 1000, handle.expiresOnMs) };
    };
    // A claims exchange is its own flight (it must not join, or be answered by, a plain one) and skips the cache read;
    // its result is stored under the plain key, replacing the token from before the challenge.
    if (claims) return this.throttledOr(key, () => this.flights.run(`${key}|claims:${claims}`, () => this.exchangeAndStore(key, produce)));
    return this.throttledOr(key, () => this.acquireOnce(key, deadlineAtMs, produce));
  }

  /**
   * The caller as this module's verifier sees it: its own principals as they are; the raw token, or the token behind a
   * principal another verifier built (a passport strategy's, with other settings), validated here first.
   */
  private async trustedPrincipal(user: EntraPrincipal | string): Promise<EntraPrincipal> {
    if (typeof user === 'string') return this.verifier.verify(user);
    if (this.verifier.isOwnPrincipal(user)) return user;
    const handle = typeof user === 'object' && user !== null ? accessTokenOf(user) : undefined;
    if (!handle) throw new TypeError('acquireTokenOnBehalfOf: pass the principal from OboAuthGuard / @CurrentUser(), or the raw access token');
    return this.verifier.verify(handle.token);
  }

  /** A client-credentials token for this API itself; `scopes` are `{resource}/.default`. */
  async acquireTokenForApp(scopes: string | readonly string[], options: AcquireAppTokenOptions = {}): Promise<AcquiredToken> {
    const scopeList = checkedScopes(scopes, 'app', 'acquireTokenForApp');
    const deadlineAtMs = Date.now() + this.options.deadlineMs;
    const tenantId = await appTokenTenant(options.tenantId, this.options, async () => tenantIdOfIssuer((await this.metadata.get(this.options.tenantId)).issuer));
    const key = appTokenCacheKey(this.keyContext, tenantId, scopeList);
    const cached = await this.lookup(key);
    if (cached) return this.fromCache(cached);
    return this.throttledOr(key, () =>
      this.acquireOnce(key, deadlineAtMs, async () => {
        const exchanged = await this.exchanger.forApp({ tenantId, scopes: scopeList, deadlineAtMs });
        const value: CachedToken = { accessToken: exchanged.accessToken, expiresOnMs: exchanged.expiresOnMs, scopes: exchanged.scopes, tenantId };
        // Dropped before it expires, so the next call fetches a fresh one in time.
        return { value, cacheUntilMs: exchanged.expiresOnMs - this.options.refreshMarginSec * 1000 };
      }),
    );
  }

  /** Evicts one user's cached tokens (sign-out, revocation), where the cache supports it. */
  async removeUser(tenantId: string, userObjectId: string): Promise<void> {
    if (!this.cache.removeUser) throw new TypeError('removeUser: the configured cache does not support eviction by user');
    await this.cache.removeUser(tenantId, userObjectId);
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

  private async exchangeAndStore(key: string, produce: () => Promise<{ value: CachedToken; cacheUntilMs: number }>): Promise<AcquiredToken> {
    const { value, cacheUntilMs } = await produce();
    await this.store(key, value, cacheUntilMs);
    return { ...this.toAcquired(value), fromCache: false };
  }

  /**
   * A miss, made once: in this process by single-flight, across instances by the cache's lock when it has one (the
   * losers wait for the winner's entry, then exchange anyway if it does not come within about one exchange).
   */
  private acquireOnce(key: string, deadlineAtMs: number, produce: () => Promise<{ value: CachedToken; cacheUntilMs: number }>): Promise<AcquiredToken> {
    return this.flights.run(key, async () => {
      const again = await this.lookup(key);
      if (again) return this.fromCache(again);
      const lockTtlMs = this.options.timeoutMs + LOCK_MARGIN_MS;
      const outcome = await this.lockOrWait(key, lockTtlMs, deadlineAtMs);
      if (outcome && 'accessToken' in outcome) return this.fromCache(outcome);
      const lock = outcome;
      try {
        return await this.exchangeAndStore(key, produce);
      } finally {
        await lock?.release().catch(() => undefined);
      }
    });
  }

  /**
   * Takes the cache's cross-instance lock for `key`, or, while another instance holds it, waits for that instance's
   * entry. Returns the entry, the lock, or undefined (no lock support, or the wait ran out: exchange anyway).
   */
  private async lockOrWait(key: string, lockTtlMs: number, deadlineAtMs: number): Promise<CachedToken | CacheLock | undefined> {
    if (!this.cache.tryLock) return undefined;
    // The wait is bounded by one exchange of the holder and by this acquisition's own deadline.
    const deadline = Math.min(Date.now() + lockTtlMs, deadlineAtMs);
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

  private async store(key: string, value: CachedToken, cacheUntilMs: number): Promise<void> {
    if (cacheUntilMs <= this.options.clock.nowMs()) return;
    try {
      await this.cache.set(key, value, cacheUntilMs);
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
