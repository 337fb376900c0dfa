import { createHash } from 'node:crypto';

/** base64url SHA-256 of an access token: how a token is named in caches and logs, never the token itself. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Scopes compared as Entra compares them: case-insensitive, order and duplicates irrelevant. */
export function normalizeScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map((scope) => scope.trim().toLowerCase()).filter((scope) => scope.length > 0))].sort();
}

/**
 * The key of an On-Behalf-Of result: the incoming token's hash (never the user's `oid` alone, so a token obtained
 * after MFA is never handed to a caller who signed in without it), the tenant, the scopes, and claims when present.
 */
export function oboCacheKey(incomingTokenHash: string, tenantId: string, scopes: readonly string[], claims?: string): string {
  const claimsPart = claims ? `|c:${createHash('sha256').update(claims).digest('base64url')}` : '';
  return `obo|${tenantId}|${normalizeScopes(scopes).join(' ')}|${incomingTokenHash}${claimsPart}`;
}

/** The key of an app-only (client credentials) token: one per tenant and scopes. */
export function appTokenCacheKey(tenantId: string, scopes: readonly string[]): string {
  return `app|${tenantId}|${normalizeScopes(scopes).join(' ')}`;
}
