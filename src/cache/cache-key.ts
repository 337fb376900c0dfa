import { normalizeScopes } from '../scopes/downstream-scopes.js';

/**
 * Who asks for tokens: the API's client id and the authority host it asks. Two APIs (or one API in two clouds) that
 * share a cache store never read each other's entries, whatever prefix their store uses.
 */
export interface CacheKeyContext {
  clientId: string;
  authorityHost: string;
}

/**
 * The key format's version. Changing the format changes it, so entries written by an older release are simply never
 * read (they expire in their store) instead of being misread.
 */
const KEY_FORMAT = 'v2';

function namespace(context: CacheKeyContext): string {
  return `${KEY_FORMAT}|${context.clientId.toLowerCase()}|${context.authorityHost.toLowerCase()}`;
}

/**
 * The key of an On-Behalf-Of result: who asks (client id, authority host), the tenant, the scopes, and the incoming
 * token's hash (never the user's `oid` alone, so a token obtained after MFA is never handed to a caller who signed in
 * without it). A downstream API's claims challenge is not part of the key: a claims exchange always goes to Entra and
 * its result replaces this entry, so the next plain call gets the token that satisfied the challenge.
 */
export function oboCacheKey(context: CacheKeyContext, incomingTokenHash: string, tenantId: string, scopes: readonly string[]): string {
  return `obo|${namespace(context)}|${tenantId.toLowerCase()}|${normalizeScopes(scopes).join(' ')}|${incomingTokenHash}`;
}

/** The key of an app-only (client credentials) token: one per client, authority host, tenant and scopes. */
export function appTokenCacheKey(context: CacheKeyContext, tenantId: string, scopes: readonly string[]): string {
  return `app|${namespace(context)}|${tenantId.toLowerCase()}|${normalizeScopes(scopes).join(' ')}`;
}
