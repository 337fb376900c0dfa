/** The caller, as its validated access token describes it. Attached to `request.user` by `OboAuthGuard`. */
export interface EntraPrincipal {
  /** Object id of the user (or, for an app-only token, of the calling service principal). */
  readonly oid: string;
  /** Tenant the token was issued in (for a guest: the resource tenant, not the user's home). */
  readonly tid: string;
  readonly sub: string;
  readonly name: string | undefined;
  /** `preferred_username` (v2) or `upn` / `unique_name` (v1). */
  readonly username: string | undefined;
  /** Delegated scopes (`scp`); empty for app-only tokens. */
  readonly scopes: readonly string[];
  /** App roles (`roles`). */
  readonly roles: readonly string[];
  /** Client id of the app that called us (`azp` in v2, `appid` in v1). */
  readonly clientId: string;
  /** True for an app-only (client credentials) token: no user behind it. */
  readonly isAppOnly: boolean;
  /** True for a B2B guest (`acct` 1, or an `idp` other than the tenant). */
  readonly isGuest: boolean;
  /** Every claim of the token, deeply frozen (shared by every request that presents the same token). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Freezes `value` and everything reachable from it (JSON data: objects and arrays), and returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The raw token behind a principal and its hash, kept off any enumerable property so it never serialises or logs. */
const ACCESS_TOKEN = Symbol('nestjs-entra-obo.accessToken');

interface TokenHandle {
  token: string;
  hash: string;
  /** When the caller's token itself expires (`exp`, ms since the epoch). */
  expiresOnMs: number;
}

export function attachAccessToken(principal: EntraPrincipal, handle: TokenHandle): void {
  Object.defineProperty(principal, ACCESS_TOKEN, { value: handle, enumerable: false });
}

/** The access token a principal was built from, for an On-Behalf-Of exchange. */
export function accessTokenOf(principal: EntraPrincipal): TokenHandle | undefined {
  return (principal as unknown as Record<symbol, TokenHandle | undefined>)[ACCESS_TOKEN];
}
