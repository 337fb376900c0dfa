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
  /**
   * The `client-request-id` of the exchange that produced the token (Entra's logs know it by this id). A cache hit
   * reports the id of the exchange that filled the cache, not of the current request; absent for entries stored
   * without one (a custom cache that drops it).
   */
  correlationId?: string | undefined;
}

export interface AcquireOnBehalfOfOptions {
  /**
   * A claims challenge from a downstream API (the decoded `claims` of its `WWW-Authenticate`, e.g. Continuous Access
   * Evaluation or an authentication context). The exchange then always goes to Entra, and its token replaces the cached
   * one for this user token and scopes, so later calls get the token that satisfies the challenge.
   */
  claims?: string;
  /**
   * The incoming request's id (a GUID), sent to Entra as the exchange's `client-request-id` so its logs and errors
   * line up with this request; anything but a GUID is ignored and a random id is used. `@DownstreamToken` passes the
   * request's `client-request-id`, `x-ms-client-request-id`, `x-request-id` or `traceparent` trace id.
   */
  correlationId?: string;
}

export interface AcquireAppTokenOptions {
  /**
   * The tenant to get the token in. Default: the configured tenant. A single-tenant API accepts only its own tenant
   * (its id or domain); a multi-tenant API requires a tenant id (GUID) its `allowedTenants` (or `allowAnyTenant`) accept.
   */
  tenantId?: string;
  /** As for `acquireTokenOnBehalfOf`: a GUID sent to Entra as the exchange's `client-request-id`. */
  correlationId?: string;
}

export interface LongRunningSessionOptions {
  /** As for `acquireTokenOnBehalfOf`: a GUID sent to Entra as the exchange's `client-request-id`. */
  correlationId?: string;
}

/** What callers get for a cached or new token: a fresh object each time (its `Date` is theirs to keep). */
export function acquiredToken(value: CachedToken, fromCache: boolean): AcquiredToken {
  return { accessToken: value.accessToken, expiresOn: new Date(value.expiresOnMs), scopes: value.scopes, tenantId: value.tenantId, fromCache, correlationId: value.correlationId };
}
