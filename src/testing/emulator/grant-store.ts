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

interface RefreshTokenRecord extends UserGrant {
  expiresAtMs: number;
  revoked: boolean;
}

/** Why a refresh token cannot be redeemed. */
export type RefreshTokenRejection = 'unknown' | 'expired' | 'revoked';

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

  issueRefreshToken(grant: UserGrant, lifetimeSec: number): string {
    this.dropExpired(this.refreshTokens);
    const token = `1.${randomBytes(96).toString('base64url')}`;
    this.refreshTokens.set(token, { ...grant, expiresAtMs: this.clock.nowMs() + lifetimeSec * 1000, revoked: false });
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
    if (record.expiresAtMs <= this.clock.nowMs()) return 'expired';
    const { expiresAtMs: _expiresAtMs, revoked: _revoked, ...grant } = record;
    return grant;
  }

  /** Revokes every refresh token of one user (as a password reset or "revoke sessions" does). */
  revokeUser(userId: string): void {
    for (const record of this.refreshTokens.values()) if (record.userId === userId) record.revoked = true;
  }

  // A full sweep is O(n); doing it at most once a minute keeps issuing O(1) under load (benchmarks issue 100,000s).
  private dropExpired(map: Map<string, { expiresAtMs: number }>): void {
    const now = this.clock.nowMs();
    const lastSweep = this.lastSweepMs.get(map) ?? 0;
    if (now - lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweepMs.set(map, now);
    for (const [key, record] of map) if (record.expiresAtMs <= now) map.delete(key);
  }
}
