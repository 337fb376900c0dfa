import { randomBytes } from 'node:crypto';
import type { EmulatorClock } from './clock.js';

/** A user's sign-in to a client: what codes and refresh tokens stand for. */
export interface UserGrant {
  clientId: string;
  /** Object id of the account in `tenantId` (a guest object for a guest). */
  userId: string;
  tenantId: string;
  amr: string[];
  clientCapabilities: string[];
  /** Authentication contexts the sign-in satisfied (`acrs`); kept for the tokens its refresh tokens bring. */
  acrs?: string[];
  /** `spa` when the sign-in came back to a single-page-app redirect URI: its codes and refresh tokens need no credential. */
  platform?: 'web' | 'spa';
  /**
   * How the grant came about: `sign-in` (an authorization code: the user was there and consented on the spot) or
   * `on-behalf-of` (a middle tier exchanged the user's access token: nobody could be prompted). Its refresh tokens
   * keep it, so that redeeming one is judged as the grant it came from was.
   */
  origin: 'sign-in' | 'on-behalf-of';
  /** A single-page app's refresh tokens all end when the first one does (non-sliding): that end, once one was issued. */
  refreshTokensEndAtMs?: number;
}

export type CodeChallengeMethod = 'S256' | 'plain';

export interface AuthorizationCodeRecord extends UserGrant {
  redirectUri: string;
  scope: string;
  /** The PKCE challenge, when the authorize request had one (optional for web apps, required for SPAs). */
  codeChallenge: string | undefined;
  codeChallengeMethod: CodeChallengeMethod;
  nonce: string | undefined;
  expiresAtMs: number;
  redeemed: boolean;
}

const SWEEP_INTERVAL_MS = 60_000;
/**
 * Entra's refresh tokens are self-contained, so an expired one is always recognised as expired (AADSTS700082), never
 * as unknown. The emulator keeps expired ones this long after their end before forgetting them.
 */
const EXPIRED_REFRESH_TOKEN_MEMORY_MS = 30 * 24 * 3600 * 1000;
/** At most this many refresh tokens are remembered (the oldest go first): every On-Behalf-Of via msal asks for one. */
const MAX_REFRESH_TOKENS = 200_000;

interface RefreshTokenRecord extends UserGrant {
  issuedAtMs: number;
  expiresAtMs: number;
  revoked: boolean;
}

/** Why a refresh token cannot be redeemed; an expired one says when it was issued (Entra's message names it). */
export type RefreshTokenRejection = 'unknown' | 'revoked' | { expired: 'inactive' | 'spa-lifetime'; issuedAtMs: number; lifetimeMs: number };

/** Authorization codes and refresh tokens the emulator handed out: opaque strings that stand for a user's grant. */
export class GrantStore {
  private readonly codes = new Map<string, AuthorizationCodeRecord>();
  private readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  private readonly lastSweepMs = new Map<Map<string, { expiresAtMs: number }>, number>();

  constructor(private readonly clock: EmulatorClock) {}

  issueCode(record: Omit<AuthorizationCodeRecord, 'redeemed'>): string {
    this.dropExpired(this.codes);
    const code = `1.${randomBytes(48).toString('base64url')}`;
    this.codes.set(code, { ...record, redeemed: false });
    return code;
  }

  /** The platform a code or refresh token was issued for, without using it: decides whether a credential is due. */
  platformOf(kind: 'code' | 'refresh_token', value: string): 'web' | 'spa' | undefined {
    const record = kind === 'code' ? this.codes.get(value) : this.refreshTokens.get(value);
    return record ? (record.platform ?? 'web') : undefined;
  }

  /** The code's record (marked redeemed from now on), or why it cannot be redeemed. */
  redeemCode(code: string): AuthorizationCodeRecord | 'unknown' | 'redeemed' {
    const record = this.codes.get(code);
    if (!record || record.expiresAtMs <= this.clock.nowMs()) return 'unknown';
    if (record.redeemed) return 'redeemed';
    record.redeemed = true;
    return { ...record };
  }

  /**
   * A new refresh token for `grant`, living `lifetimeSec` from now: each one redeemed brings a new one with a fresh
   * lifetime, so the lifetime is an inactivity limit. A single-page app's are the exception: every refresh token a
   * refresh brings ends when the sign-in's first one does (https://learn.microsoft.com/entra/identity-platform/refresh-tokens).
   */
  issueRefreshToken(grant: UserGrant, lifetimeSec: number): string {
    this.dropExpired(this.refreshTokens, EXPIRED_REFRESH_TOKEN_MEMORY_MS);
    while (this.refreshTokens.size >= MAX_REFRESH_TOKENS) this.refreshTokens.delete(this.refreshTokens.keys().next().value!);
    const token = `1.${randomBytes(96).toString('base64url')}`;
    const issuedAtMs = this.clock.nowMs();
    const expiresAtMs = grant.platform === 'spa' ? (grant.refreshTokensEndAtMs ?? issuedAtMs + lifetimeSec * 1000) : issuedAtMs + lifetimeSec * 1000;
    this.refreshTokens.set(token, { ...grant, ...(grant.platform === 'spa' ? { refreshTokensEndAtMs: expiresAtMs } : {}), issuedAtMs, expiresAtMs, revoked: false });
    return token;
  }

  /**
   * The grant behind a refresh token, or why it is refused. As in Entra, using a refresh token does not revoke it:
   * the response carries a fresh one, and the old one stays valid until it expires or the user's sessions are revoked.
   */
  redeemRefreshToken(token: string): UserGrant | RefreshTokenRejection {
    const record = this.refreshTokens.get(token);
    if (!record) return 'unknown';
    if (record.revoked) return 'revoked';
    if (record.expiresAtMs <= this.clock.nowMs()) {
      return { expired: record.platform === 'spa' ? 'spa-lifetime' : 'inactive', issuedAtMs: record.issuedAtMs, lifetimeMs: record.expiresAtMs - record.issuedAtMs };
    }
    const { expiresAtMs: _expiresAtMs, issuedAtMs: _issuedAtMs, revoked: _revoked, ...grant } = record;
    return grant;
  }

  /** Revokes every refresh token of one user (as a password reset or "revoke sessions" does). */
  revokeUser(userId: string): void {
    for (const record of this.refreshTokens.values()) if (record.userId === userId) record.revoked = true;
  }

  // A full sweep is O(n); doing it at most once a minute keeps issuing O(1) under load (benchmarks issue 100,000s).
  private dropExpired(map: Map<string, { expiresAtMs: number }>, rememberedForMs = 0): void {
    const now = this.clock.nowMs();
    const lastSweep = this.lastSweepMs.get(map) ?? 0;
    if (now - lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweepMs.set(map, now);
    for (const [key, record] of map) if (record.expiresAtMs + rememberedForMs <= now) map.delete(key);
  }
}
