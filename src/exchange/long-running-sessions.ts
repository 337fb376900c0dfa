import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { accessTokenOf, type EntraPrincipal } from '../auth/entra-principal.js';
import type { CacheKeys } from '../cache/cache-key.js';
import type { LongRunningSession, LongRunningSessionStore } from '../cache/long-running-session-store.js';
import type { CachedToken } from '../cache/obo-token-cache.js';
import type { ResolvedOboOptions } from '../config/resolve-options.js';
import { InvalidGrantError } from '../errors/obo-errors.js';
import type { ExchangedToken, MsalTokenExchanger } from '../msal/msal-token-exchanger.js';
import { tokenHash } from '../util/token-hash.js';
import { acquiredToken, type AcquiredToken } from './acquired-token.js';
import { ScopePreparation } from './prepared-scopes.js';
import { refreshAtMs } from './refresh-ahead.js';
import type { ProduceToken, TokenPath } from './token-path.js';

/** What `startLongRunningSession` returns: the key to continue the session by, and the first token. */
export interface LongRunningSessionStart {
  /** 256 random bits, base64url: names no user, cannot be guessed. A bearer secret: keep it as you keep tokens. */
  sessionKey: string;
  token: AcquiredToken;
}

/** 32 random bytes in base64url (43 characters): the only shape of a session key. */
const SESSION_KEY = /^[A-Za-z0-9_-]{43}$/;
const SESSION_KEY_BYTES = 32;

type Cacheable = Awaited<ReturnType<ProduceToken>>;

/**
 * Long-running On-Behalf-Of (MSAL.NET's `InitiateLongRunningProcessInWebApi`, Microsoft.Identity.Web's
 * `LongRunningWebApiSessionKey`): while the user's token is valid, one exchange yields a refresh token, kept in the
 * session store under a random key; later, hours after the user's token expired, the key alone gets tokens through
 * the refresh-token grant. Access tokens are cached by session (never by the user's token) and renewed ahead of
 * expiry, and each refresh stores the refresh token Entra returns in place of the old one.
 */
export class LongRunningSessions {
  private readonly logger = new Logger('OboModule');
  private readonly startScopes = new ScopePreparation('on-behalf-of', 'startLongRunningSession');
  private readonly sessionScopes = new ScopePreparation('on-behalf-of', 'acquireTokenInLongRunningSession');

  constructor(
    private readonly options: ResolvedOboOptions,
    private readonly exchanger: MsalTokenExchanger,
    private readonly store: LongRunningSessionStore,
    private readonly keys: CacheKeys,
    private readonly path: TokenPath,
  ) {}

  /** `principal` is already trusted (validated, not app-only) by the service. */
  async start(principal: EntraPrincipal, scopes: string | readonly string[], correlationId: string | undefined): Promise<LongRunningSessionStart> {
    const prepared = this.startScopes.of(scopes);
    const handle = accessTokenOf(principal)!;
    const issuedAtMs = this.options.clock.nowMs();
    const exchanged = await this.exchanger.startLongRunning({
      assertion: handle.token,
      tenantId: principal.tid,
      scopes: [...prepared.list],
      deadlineAtMs: Date.now() + this.options.deadlineMs,
      ...(correlationId ? { correlationId } : {}),
    });
    const sessionKey = randomBytes(SESSION_KEY_BYTES).toString('base64url');
    const session: LongRunningSession = { refreshToken: exchanged.refreshToken, tenantId: principal.tid, userObjectId: principal.oid };
    await this.store.start(sessionKey, session);
    this.logger.debug?.(`Long-running session started for tenant ${principal.tid}, scopes ${prepared.list.join(' ')} (correlation ${exchanged.correlationId})`);
    const key = this.keys.longRunning(tokenHash(sessionKey), principal.tid, prepared.key);
    const token = await this.path.exchangeAndStore(key, async () => this.cacheable(exchanged, issuedAtMs, session));
    return { sessionKey, token };
  }

  /**
   * A token for `scopes` (any one resource the user's grant reaches) in the session. The session is read on every
   * call, so one ended, removed or idle past its limit is refused at once, on every instance, even while a token of
   * it is cached.
   */
  async acquire(sessionKey: string, scopes: string | readonly string[], correlationId: string | undefined): Promise<AcquiredToken> {
    checkSessionKey(sessionKey, 'acquireTokenInLongRunningSession');
    const prepared = this.sessionScopes.of(scopes);
    const session = await this.sessionOf(sessionKey);
    const key = this.keys.longRunning(tokenHash(sessionKey), session.tenantId, prepared.key);
    const produce = (deadlineAtMs: number) => this.refresh(sessionKey, [...prepared.list], deadlineAtMs, correlationId);
    const cached = await this.path.lookup(key);
    if (cached) {
      this.path.renewAhead(key, cached, () => produce(Date.now() + this.options.deadlineMs));
      return acquiredToken(cached, true);
    }
    const deadlineAtMs = Date.now() + this.options.deadlineMs;
    return this.path.acquire(key, deadlineAtMs, () => produce(deadlineAtMs));
  }

  async end(sessionKey: string): Promise<void> {
    checkSessionKey(sessionKey, 'endLongRunningSession');
    await this.store.delete(sessionKey);
  }

  removeUser(tenantId: string, userObjectId: string): Promise<void> {
    return this.store.removeUser(tenantId, userObjectId);
  }

  /** The refresh-token grant with the session's latest refresh token (another instance may have replaced it). */
  private async refresh(sessionKey: string, scopes: string[], deadlineAtMs: number, correlationId: string | undefined): Promise<Cacheable> {
    const session = await this.sessionOf(sessionKey);
    const issuedAtMs = this.options.clock.nowMs();
    let exchanged: ExchangedToken & { refreshToken: string };
    try {
      exchanged = await this.exchanger.refreshLongRunning({ refreshToken: session.refreshToken, tenantId: session.tenantId, scopes, deadlineAtMs, ...(correlationId ? { correlationId } : {}) });
    } catch (error) {
      // Revoked refresh tokens ("revoke sessions" by the user or an admin), expired or invalid ones: Entra's invalid_grant.
      if (error instanceof InvalidGrantError) {
        const aadsts = error.entra.errorCodes?.[0];
        throw new InvalidGrantError(
          `Entra ID refused the long-running session's refresh token${aadsts !== undefined ? ` (AADSTS${aadsts})` : ''}: the user's sessions were revoked or the grant expired; end this session and start a new one while the user is signed in.`,
          error.entra,
          { cause: error },
        );
      }
      throw error;
    }
    const renewed: LongRunningSession = { ...session, refreshToken: exchanged.refreshToken };
    await this.store.update(sessionKey, renewed);
    return this.cacheable(exchanged, issuedAtMs, renewed);
  }

  private async sessionOf(sessionKey: string): Promise<LongRunningSession> {
    const session = await this.store.get(sessionKey);
    if (!session) {
      throw new InvalidGrantError('The long-running session is unknown, ended, idle past its limit or evicted; start a new one (startLongRunningSession) while the user is signed in.', {});
    }
    return session;
  }

  /**
   * Cached until the token's expiry minus the margin (not the user's token: outliving it is the point), renewed ahead
   * of that; bound to the user, so `removeUser` evicts it with the user's other tokens.
   */
  private cacheable(exchanged: ExchangedToken, issuedAtMs: number, session: LongRunningSession): Cacheable {
    const cacheUntilMs = exchanged.expiresOnMs - this.options.refreshMarginSec * 1000;
    const value: CachedToken = {
      accessToken: exchanged.accessToken,
      expiresOnMs: exchanged.expiresOnMs,
      scopes: exchanged.scopes,
      tenantId: session.tenantId,
      userObjectId: session.userObjectId,
      correlationId: exchanged.correlationId,
      refreshAtMs: refreshAtMs(issuedAtMs, exchanged, cacheUntilMs),
    };
    return { value, cacheUntilMs };
  }
}

/** A TypeError for anything that is not a session key (a caller's mistake, never echoed: it may be a secret). */
function checkSessionKey(sessionKey: unknown, method: string): asserts sessionKey is string {
  if (typeof sessionKey !== 'string' || !SESSION_KEY.test(sessionKey)) {
    throw new TypeError(`${method}: sessionKey must be the key startLongRunningSession returned (43 base64url characters)`);
  }
}
