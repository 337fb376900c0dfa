import { callerKindOf } from './caller-kind.js';
import { deepFreeze, type EntraPrincipal } from './entra-principal.js';
import { invalid } from './rejection-log.js';

// What a validly signed token's claims must hold to be this API's access token, and the principal they make. No
// cryptography here: `access-token-verifier.ts` calls these once the signature and issuer are checked.

/** A NumericDate (RFC 7519 §2): a finite JSON number. */
function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function stringClaim(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** `exp` / `nbf` as ms since the epoch, once they are checked against `nowMs` with the clock tolerance. */
export function validityWindowOf(claims: Record<string, unknown>, nowMs: number, toleranceMs: number): { expiresOnMs: number; notBeforeMs: number } {
  // Time claims of the wrong type refuse the token rather than being ignored (RFC 7519 §4.1.4-4.1.6: NumericDate).
  if (claims.exp === undefined) throw invalid('expired', 'The access token has no expiry (exp).');
  for (const name of ['exp', 'nbf', 'iat'] as const) {
    if (claims[name] !== undefined && !isNumericDate(claims[name])) throw invalid('malformed', `The access token's ${name} claim is not a number (NumericDate).`);
  }
  const expiresOnMs = (claims.exp as number) * 1000;
  const notBeforeMs = claims.nbf === undefined ? Number.NEGATIVE_INFINITY : (claims.nbf as number) * 1000;
  if (nowMs >= expiresOnMs + toleranceMs) throw invalid('expired', 'The access token has expired.');
  if (nowMs < notBeforeMs - toleranceMs) throw invalid('not_yet_valid', 'The access token is not valid yet (nbf).');
  return { expiresOnMs, notBeforeMs };
}

/** The principal of an access token whose tenant and issuers are checked; refuses ID tokens and unwanted guests. */
export function principalOf(claims: Record<string, unknown>, context: { tid: string; issuers: readonly string[]; allowGuests: boolean }): EntraPrincipal {
  const { tid } = context;
  // Only access tokens name the client they were issued to (v2 `azp`, v1 `appid`). ID tokens do not, and they can
  // carry `roles`, so this (not the presence of scp/roles) is what keeps an ID token out.
  const clientId = stringClaim(claims, 'azp') ?? stringClaim(claims, 'appid');
  if (!clientId) throw invalid('id_token', 'The token names no client (azp/appid): it is not an access token (an ID token?).');
  const scopeClaim = stringClaim(claims, 'scp');
  const scopes = scopeClaim ? scopeClaim.split(' ').filter(Boolean) : [];
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((role): role is string => typeof role === 'string') : [];
  if (scopes.length === 0 && roles.length === 0) {
    throw invalid('no_permissions', 'The token grants no scope (scp) and no role (roles): it is not an access token for this API (an ID token?).');
  }
  const { isAppOnly, isGuest } = callerKindOf(claims, scopes.length > 0, context.issuers);
  if (isGuest && !context.allowGuests) throw invalid('guest', 'Guest users are not accepted by this API.');

  const oid = stringClaim(claims, 'oid');
  const sub = stringClaim(claims, 'sub');
  if (!oid || !sub) throw invalid('malformed', 'The access token has no object id (oid) or subject (sub).');
  const principal: EntraPrincipal = {
    oid,
    tid,
    sub,
    name: stringClaim(claims, 'name'),
    username: stringClaim(claims, 'preferred_username') ?? stringClaim(claims, 'upn') ?? stringClaim(claims, 'unique_name'),
    scopes: Object.freeze(scopes),
    roles: Object.freeze(roles),
    clientId,
    isAppOnly,
    isGuest,
    // Deeply frozen: the remembered principal is handed to every request with this token, so nothing one handler
    // does to it (claims.amr.push(...)) may show in another.
    claims: deepFreeze(claims),
  };
  return principal;
}
