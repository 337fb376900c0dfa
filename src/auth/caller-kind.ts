/** What the token says about who is calling: an application on its own, or a user (perhaps a B2B guest). */
export interface CallerKind {
  isAppOnly: boolean;
  isGuest: boolean;
}

/**
 * Classifies a validated token's caller. App-only (client credentials) means `idtyp: "app"` (an optional claim the
 * resource may configure), or no delegated scope (`scp`) with `oid` equal to `sub` (the service principal is its own
 * subject; a user's `sub` is a pairwise id that never equals its `oid`). A token with `roles` but no `scp` is not
 * app-only by that alone: users are assigned app roles too, and such a delegated token must still go through guest
 * detection. A guest is `acct: 1` (optional claim), or a user whose `idp` names another issuer than the token's tenant.
 *
 * Source: Microsoft identity platform, "Access token claims reference" (idtyp, oid, sub, idp, scp, roles),
 * https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
 */
export function callerKindOf(claims: Readonly<Record<string, unknown>>, hasScopes: boolean, tenantIssuers: readonly string[]): CallerKind {
  const oid = typeof claims.oid === 'string' ? claims.oid : undefined;
  const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
  const isAppOnly = claims.idtyp === 'app' || (!hasScopes && oid !== undefined && oid === sub);
  const idp = typeof claims.idp === 'string' && claims.idp.length > 0 ? claims.idp : undefined;
  const isGuest = claims.acct === 1 || (!isAppOnly && idp !== undefined && !tenantIssuers.includes(idp));
  return { isAppOnly, isGuest };
}
