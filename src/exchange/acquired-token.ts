import type { CachedToken } from '../cache/obo-token-cache.js';

// The service's public shapes: what callers pass and what they get back.

/** A token for a downstream API. */
export interface AcquiredToken {
  accessToken: string;
  expiresOn: Date;
  scopes: string[];
  tenantId: string;
  /** True when served from the cache, without a request to Entra. */
  fromCache: boolean;
}

export interface AcquireOnBehalfOfOptions {
  /**
   * A claims challenge from a downstream API (the decoded `claims` of its `WWW-Authenticate`, e.g. Continuous Access
   * Evaluation or an authentication context). The exchange then always goes to Entra, and its token replaces the cached
   * one for this user token and scopes, so later calls get the token that satisfies the challenge.
   */
  claims?: string;
}

export interface AcquireAppTokenOptions {
  /**
   * The tenant to get the token in. Default: the configured tenant. A single-tenant API accepts only its own tenant
   * (its id or domain); a multi-tenant API requires a tenant id (GUID) its `allowedTenants` (or `allowAnyTenant`) accept.
   */
  tenantId?: string;
}


/** What callers get for a cached or new token: a fresh object each time (its `Date` is theirs to keep). */
export function acquiredToken(value: CachedToken, fromCache: boolean): AcquiredToken {
  return { accessToken: value.accessToken, expiresOn: new Date(value.expiresOnMs), scopes: value.scopes, tenantId: value.tenantId, fromCache };
}
