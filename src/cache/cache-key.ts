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
  return new CacheKeys(context).onBehalfOf(incomingTokenHash, tenantId, scopeKeyOf(scopes));
}

/** The key of an app-only (client credentials) token: one per client, authority host, tenant and scopes. */
export function appTokenCacheKey(context: CacheKeyContext, tenantId: string, scopes: readonly string[]): string {
  return new CacheKeys(context).forApp(tenantId, scopeKeyOf(scopes));
}

/** The scopes' part of a key: normalised (case, order, duplicates), computed once per scope list by its caller. */
export function scopeKeyOf(scopes: readonly string[]): string {
  return normalizeScopes(scopes).join(' ');
}

/**
 * The same keys for one context, with the namespace built once: the form the service uses on every request, where
 * the scope part comes prepared (`scopeKeyOf`) and only the tenant and the token hash change.
 */
export class CacheKeys {
  private readonly oboPrefix: string;
  private readonly appPrefix: string;
  private readonly sessionPrefix: string;

  constructor(context: CacheKeyContext) {
    this.oboPrefix = `obo|${namespace(context)}|`;
    this.appPrefix = `app|${namespace(context)}|`;
    this.sessionPrefix = `lrs|${namespace(context)}|`;
  }

  onBehalfOf(incomingTokenHash: string, tenantId: string, scopeKey: string): string {
    return `${this.oboPrefix}${tenantId.toLowerCase()}|${scopeKey}|${incomingTokenHash}`;
  }

  forApp(tenantId: string, scopeKey: string): string {
    return `${this.appPrefix}${tenantId.toLowerCase()}|${scopeKey}`;
  }

  /** A long-running session's token: by the session key's hash (never the key, a bearer secret), tenant and scopes. */
  longRunning(sessionKeyHash: string, tenantId: string, scopeKey: string): string {
    return `${this.sessionPrefix}${tenantId.toLowerCase()}|${scopeKey}|${sessionKeyHash}`;
  }
}
