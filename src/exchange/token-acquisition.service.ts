import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { AccessTokenVerifier } from '../auth/access-token-verifier.js';
import { accessTokenOf, type EntraPrincipal } from '../auth/entra-principal.js';
import { CacheKeys } from '../cache/cache-key.js';
import { InMemoryLongRunningSessionStore, LongRunningSessionStore } from '../cache/long-running-session-store.js';
import { InMemoryTokenCache, type HeldCacheEntry } from '../cache/in-memory-token-cache.js';
import { OboTokenCache, type CachedToken } from '../cache/obo-token-cache.js';
import type { ResolvedOboOptions } from '../config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from '../config/tokens.js';
import { AuthorityMetadataClient } from '../discovery/authority-metadata.js';
import { tenantIdOfIssuer } from '../discovery/issuer-tenant.js';
import { AppOnlyTokenError } from '../errors/obo-errors.js';
import { appTokenTenant } from './app-token-tenant.js';
import { MsalTokenExchanger } from '../msal/msal-token-exchanger.js';
import { acquiredToken, type AcquireAppTokenOptions, type AcquiredToken, type AcquireOnBehalfOfOptions, type LongRunningSessionOptions } from './acquired-token.js';
import { validCorrelationId } from './correlation-id.js';
import { LongRunningSessions, type LongRunningSessionStart } from './long-running-sessions.js';
import { ScopePreparation } from './prepared-scopes.js';
import { refreshAtMs } from './refresh-ahead.js';
import { TokenPath } from './token-path.js';

export type { AcquireAppTokenOptions, AcquiredToken, AcquireOnBehalfOfOptions, LongRunningSessionOptions } from './acquired-token.js';
export type { LongRunningSessionStart } from './long-running-sessions.js';

/** One principal's cache keys: by normalised scope key, and by the scope strings callers passed (a decorator's). */
interface PrincipalKeys {
  byScopeKey: Map<string, string>;
  byScopeString: Map<string, string>;
  /**
   * With the process-memory cache: the first scope string the hit path found a token for, and that token's entry,
   * read again on the next request with the same string (the same object, a decorator's) without a lookup. A route
   * with several `@DownstreamToken` scopes holds the first; the others take the lookups.
   */
  heldScopes: string | undefined;
  held: HeldCacheEntry | undefined;
}

/**
 * The programmatic face of the module: On-Behalf-Of and client-credentials tokens, cached per user and per app,
 * with single-flight so concurrent misses for the same key make one request to Entra, and a memory of throttling so a
 * request Entra throttled is not sent again before its `Retry-After`.
 */
@Injectable()
export class TokenAcquisitionService {
  private readonly logger = new Logger('OboModule');
  private readonly path: TokenPath;
  private readonly keys: CacheKeys;
  /**
   * The cache keys of each of this module's user principals: the same string every request, so the cache's `Map`
   * hashes it once. Only principals that passed `isOwnPrincipal` and are not app-only get an entry, so finding one
   * answers both questions for the hit path.
   */
  private readonly oboKeys = new WeakMap<EntraPrincipal, PrincipalKeys>();
  private readonly oboScopes = new ScopePreparation('on-behalf-of', 'acquireTokenOnBehalfOf');
  private readonly appScopes = new ScopePreparation('app', 'acquireTokenForApp');
  private readonly sessions: LongRunningSessions;
  /** The cache when it is the process-memory one as shipped (its `get` not overridden): the hit path may hold entries. */
  private readonly memoryCache: InMemoryTokenCache | undefined;

  constructor(
    @Inject(OBO_RESOLVED_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly verifier: AccessTokenVerifier,
    private readonly exchanger: MsalTokenExchanger,
    private readonly cache: OboTokenCache,
    private readonly metadata: AuthorityMetadataClient,
    @Optional() @Inject(LongRunningSessionStore) sessionStore?: LongRunningSessionStore,
  ) {
    this.path = new TokenPath(cache, options);
    this.memoryCache = cache instanceof InMemoryTokenCache && cache.get === InMemoryTokenCache.prototype.get ? cache : undefined;
    this.keys = new CacheKeys({ clientId: options.clientId, authorityHost: options.authorityHost });
    const store = sessionStore ?? new InMemoryLongRunningSessionStore(options.longRunningSessions, () => options.clock.nowMs());
    // Sessions go the same way as every token: this cache, flights, lock, throttling memory and refresh-ahead.
    this.sessions = new LongRunningSessions(options, exchanger, store, this.keys, this.path);
  }

  /**
   * A token for `scopes` (one downstream resource) on behalf of the user of `user`: a validated principal (from
   * `@CurrentUser()`), or the raw incoming access token, which is validated first.
   */
  async acquireTokenOnBehalfOf(user: EntraPrincipal | string, scopes: string | readonly string[], options: AcquireOnBehalfOfOptions = {}): Promise<AcquiredToken> {
    const prepared = this.oboScopes.of(scopes);
    const scopeList = [...prepared.list];
    const principal = await this.trustedPrincipal(user);
    if (principal.isAppOnly) throw new AppOnlyTokenError();
    const handle = accessTokenOf(principal)!;
    const deadlineAtMs = Date.now() + this.options.deadlineMs;
    const key = this.oboKeyOf(principal, prepared.key, typeof scopes === 'string' ? scopes : undefined);
    const claims = options.claims || undefined;
    const correlationId = validCorrelationId(options.correlationId);
    if (!claims) {
      const cached = await this.path.lookup(key);
      if (cached) return this.fromCache(cached);
    }
    const produce = async () => {
      this.logger.debug?.(`On-Behalf-Of ${claims ? 'exchange for a claims challenge' : 'cache miss'} for tenant ${principal.tid}, scopes ${scopeList.join(' ')}${correlationId ? ` (correlation ${correlationId})` : ''}`);
      const exchanged = await this.exchanger.onBehalfOf({ assertion: handle.token, tenantId: principal.tid, scopes: scopeList, deadlineAtMs, ...(claims ? { claims } : {}), ...(correlationId ? { correlationId } : {}) });
      const value: CachedToken = { accessToken: exchanged.accessToken, expiresOnMs: exchanged.expiresOnMs, scopes: exchanged.scopes, tenantId: principal.tid, userObjectId: principal.oid, correlationId: exchanged.correlationId };
      // Never outlive the downstream token (minus the margin), nor the user's own token.
      return { value, cacheUntilMs: Math.min(exchanged.expiresOnMs - this.options.refreshMarginSec * 1000, handle.expiresOnMs) };
    };
    // A claims exchange is its own flight (it must not join, or be answered by, a plain one) and skips the cache read;
    // its result is stored under the plain key, replacing the token from before the challenge.
    if (claims) return this.path.exchangeAlone(`${key}|claims:${claims}`, key, produce);
    return this.path.acquire(key, deadlineAtMs, produce);
  }

  /**
   * The cached On-Behalf-Of token for `scopes` and one of this module's own principals, answered synchronously without
   * Entra: undefined on a miss, for an app-only or foreign principal, or when the cache answers asynchronously (then
   * `acquireTokenOnBehalfOf` does the rest). The pipes' hit path; the cache key is the same.
   */
  cachedTokenFor(principal: EntraPrincipal, scopes: string | readonly string[]): CachedToken | undefined {
    const known = this.oboKeys.get(principal);
    return (known && this.heldTokenOf(known, scopes)) ?? this.lookedUpTokenFor(principal, scopes, known);
  }

  /**
   * `cachedTokenFor` in one lookup, for `user` as a request carries it (anything): the token entry the hit path holds
   * for this principal and this very scope string, while the cache still has it. Only this module's own user
   * principals have keys here, so finding them is the ownership check too. Undefined for anything else.
   */
  heldTokenFor(user: unknown, scopes: string | readonly string[]): CachedToken | undefined {
    const known = this.oboKeys.get(user as EntraPrincipal);
    return known && this.heldTokenOf(known, scopes);
  }

  private heldTokenOf(known: PrincipalKeys, scopes: string | readonly string[]): CachedToken | undefined {
    if (known.heldScopes !== scopes || known.held === undefined) return undefined;
    const value = this.memoryCache!.getHeld(known.held);
    if (value === undefined) known.held = undefined; // left the cache: the lookup finds its successor, and holds it
    return value;
  }

  /** The lookup behind `cachedTokenFor`; `known`, the principal's keys if it has any yet (looked up by the caller). */
  private lookedUpTokenFor(principal: EntraPrincipal, scopes: string | readonly string[], known: PrincipalKeys | undefined): CachedToken | undefined {
    // A principal seen before with this very scope string: one lookup to the key. Anything else goes the long way once.
    let key = typeof scopes === 'string' ? known?.byScopeString.get(scopes) : undefined;
    if (key === undefined) {
      if (principal.isAppOnly || !this.verifier.isOwnPrincipal(principal)) return undefined;
      key = this.oboKeyOf(principal, this.oboScopes.of(scopes).key, typeof scopes === 'string' ? scopes : undefined);
    }
    let found: ReturnType<OboTokenCache['get']>;
    try {
      found = this.cache.get(key);
    } catch {
      return undefined; // the full path reads again, and logs
    }
    if (found === undefined || found instanceof Promise) {
      (found as Promise<unknown> | undefined)?.catch(() => undefined);
      return undefined;
    }
    const keys = known ?? this.oboKeys.get(principal)!;
    if (this.memoryCache !== undefined && typeof scopes === 'string' && keys.held === undefined) {
      keys.heldScopes = scopes;
      keys.held = this.memoryCache.hold(key);
    }
    return found;
  }

  /** `principal`'s cache key for a scope key, made once; `scopeString`, the scopes as given, then finds it too. */
  private oboKeyOf(principal: EntraPrincipal, scopeKey: string, scopeString?: string): string {
    let keys = this.oboKeys.get(principal);
    if (!keys) this.oboKeys.set(principal, (keys = { byScopeKey: new Map(), byScopeString: new Map(), heldScopes: undefined, held: undefined }));
    let key = keys.byScopeKey.get(scopeKey);
    if (key === undefined) keys.byScopeKey.set(scopeKey, (key = this.keys.onBehalfOf(accessTokenOf(principal)!.hash, principal.tid, scopeKey)));
    if (scopeString !== undefined) keys.byScopeString.set(scopeString, key);
    return key;
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
    const prepared = this.appScopes.of(scopes);
    const scopeList = [...prepared.list];
    const deadlineAtMs = Date.now() + this.options.deadlineMs;
    const tenantId = await appTokenTenant(options.tenantId, this.options, async () => tenantIdOfIssuer((await this.metadata.get(this.options.tenantId)).issuer));
    const key = this.keys.forApp(tenantId, prepared.key);
    const correlationId = validCorrelationId(options.correlationId);
    const produce = async (deadline: number) => {
      const issuedAtMs = this.options.clock.nowMs();
      const exchanged = await this.exchanger.forApp({ tenantId, scopes: scopeList, deadlineAtMs: deadline, ...(correlationId ? { correlationId } : {}) });
      // Dropped before it expires, so the next call fetches a fresh one in time; renewed before that while in use.
      const cacheUntilMs = exchanged.expiresOnMs - this.options.refreshMarginSec * 1000;
      const value: CachedToken = { accessToken: exchanged.accessToken, expiresOnMs: exchanged.expiresOnMs, scopes: exchanged.scopes, tenantId, correlationId: exchanged.correlationId, refreshAtMs: refreshAtMs(issuedAtMs, exchanged, cacheUntilMs) };
      return { value, cacheUntilMs };
    };
    const cached = await this.path.lookup(key);
    if (cached) {
      this.path.renewAhead(key, cached, () => produce(Date.now() + this.options.deadlineMs));
      return this.fromCache(cached);
    }
    return this.path.acquire(key, deadlineAtMs, () => produce(deadlineAtMs));
  }

  /** Long-running work for the user of `user` (as `acquireTokenOnBehalfOf` takes it): a session, and its first token. */
  async startLongRunningSession(user: EntraPrincipal | string, scopes: string | readonly string[], options: LongRunningSessionOptions = {}): Promise<LongRunningSessionStart> {
    const principal = await this.trustedPrincipal(user);
    if (principal.isAppOnly) throw new AppOnlyTokenError();
    return this.sessions.start(principal, scopes, validCorrelationId(options.correlationId));
  }

  /** A token in a session, hours after the user's token expired; unknown, ended, idle or revoked: `InvalidGrantError`. */
  acquireTokenInLongRunningSession(sessionKey: string, scopes: string | readonly string[], options: LongRunningSessionOptions = {}): Promise<AcquiredToken> {
    return this.sessions.acquire(sessionKey, scopes, validCorrelationId(options.correlationId));
  }

  /** Ends a session: its refresh token is forgotten, and every later use is refused. */
  endLongRunningSession(sessionKey: string): Promise<void> {
    return this.sessions.end(sessionKey);
  }

  /** Resolves when no background renewal runs (shutdown; tests that read what a renewal stored). */
  renewalsSettled(): Promise<void> {
    return this.path.renewalsSettled();
  }

  /** Evicts one user's cached tokens (sign-out, revocation), where the cache supports it, and ends their sessions. */
  async removeUser(tenantId: string, userObjectId: string): Promise<void> {
    if (!this.cache.removeUser) throw new TypeError('removeUser: the configured cache does not support eviction by user');
    await Promise.all([this.cache.removeUser(tenantId, userObjectId), this.sessions.removeUser(tenantId, userObjectId)]);
  }

  private fromCache(value: CachedToken): AcquiredToken {
    return acquiredToken(value, true);
  }
}
