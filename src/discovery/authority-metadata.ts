import { Inject, Injectable, Logger } from '@nestjs/common';
import type { MetadataSettings } from '../config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from '../config/tokens.js';
import { ClientConfigurationError, IdentityProviderUnavailableError } from '../errors/obo-errors.js';
import { BoundedMap } from '../util/bounded-map.js';
import { SingleFlight } from '../util/single-flight.js';
import { RetryBackoff } from './retry-backoff.js';

/** The fields of an OpenID Connect discovery document that the library uses. */
export interface OpenIdMetadata {
  issuer: string;
  jwks_uri: string;
  token_endpoint: string;
  authorization_endpoint: string;
  [name: string]: unknown;
}

/** MSAL's authority settings (`auth.authority`, `authorityMetadata`, `cloudDiscoveryMetadata`, `knownAuthorities`). */
export interface MsalAuthority {
  authority: string;
  authorityMetadata: string;
  cloudDiscoveryMetadata: string;
  knownAuthorities: string[];
}

interface CachedMetadata {
  metadata: OpenIdMetadata;
  /** The document as served, for MSAL's `authorityMetadata` (which then makes no request of its own). */
  raw: string;
  fetchedAtMs: number;
}

/** A run of failed fetches of one document: the last error, answered again (fresh) until the backoff allows a retry. */
interface FailedMetadata {
  backoff: RetryBackoff;
  error: IdentityProviderUnavailableError | ClientConfigurationError;
}

/** What a health probe reports of one discovery document: times and our own error message, never the document. */
export interface DiscoveryStatus {
  /** When the document in use was fetched (on the configured clock), or undefined when none was. */
  fetchedAtMs: number | undefined;
  /** The message of the last fetch's failure while it is remembered (until a fetch succeeds), else undefined. */
  lastError: string | undefined;
}

const METADATA_TTL_MS = 24 * 3600 * 1000;
const MAX_TENANTS_CACHED = 1000;
const RETRY_INITIAL_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/**
 * Fetches and caches discovery documents per tenant and version, through the configured `fetch`. Concurrent first
 * requests for a tenant share one fetch. A document past its lifetime keeps serving while it is fetched again in the
 * background. A failed fetch is retried after a short jittered backoff (on the configured clock); until then callers
 * get the failure at once instead of waiting for another timeout. An unknown tenant (`invalid_tenant`) is a
 * configuration error, logged once per tenant, and answered as `ClientConfigurationError` (500), not as a bad token.
 */
@Injectable()
export class AuthorityMetadataClient {
  private readonly logger = new Logger('OboModule');
  private readonly cache = new BoundedMap<string, CachedMetadata>(MAX_TENANTS_CACHED);
  private readonly flights = new SingleFlight<CachedMetadata>();
  private readonly failures = new BoundedMap<string, FailedMetadata>(MAX_TENANTS_CACHED);
  private readonly reportedUnknownTenants = new Set<string>();

  constructor(@Inject(OBO_RESOLVED_OPTIONS) private readonly options: MetadataSettings) {}

  /** `https://{host}/{tenant}`: the authority URL for a tenant. */
  authorityUrl(tenant: string): string {
    return `${this.options.authorityHost}/${tenant}`;
  }

  /** The document of `tenant` as known now, for health probes: no fetch. */
  statusOf(tenant: string, version: 1 | 2 = 2): DiscoveryStatus {
    const key = documentKey(tenant, version);
    return { fetchedAtMs: this.cache.get(key)?.fetchedAtMs, lastError: this.failures.get(key)?.error.message };
  }

  async get(tenant: string, version: 1 | 2 = 2): Promise<OpenIdMetadata> {
    return (await this.load(tenant, version)).metadata;
  }

  /**
   * Everything an MSAL client needs to know its authority without asking: the v2 discovery document as served (MSAL's
   * `authorityMetadata`) and `cloudDiscoveryMetadata` for our host, built locally so MSAL never calls instance
   * discovery. With them, an exchange makes exactly one request, the token request.
   */
  async msalAuthority(tenant: string): Promise<MsalAuthority> {
    const host = new URL(this.options.authorityHost).host;
    return {
      authority: this.authorityUrl(tenant),
      authorityMetadata: (await this.load(tenant, 2)).raw,
      cloudDiscoveryMetadata: JSON.stringify({
        tenant_discovery_endpoint: `${this.options.authorityHost}/${tenant}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      }),
      knownAuthorities: [host],
    };
  }

  private async load(tenant: string, version: 1 | 2): Promise<CachedMetadata> {
    const key = documentKey(tenant, version);
    const cached = this.cache.get(key);
    if (cached) {
      // A stale document keeps serving; the fetch that replaces it runs in the background.
      if (this.options.clock.nowMs() - cached.fetchedAtMs >= METADATA_TTL_MS) void this.fetchShared(key, tenant, version).catch(() => undefined);
      return cached;
    }
    return this.fetchShared(key, tenant, version);
  }

  private fetchShared(key: string, tenant: string, version: 1 | 2): Promise<CachedMetadata> {
    return this.flights.run(key, () => this.fetchOrRepeatFailure(key, tenant, version));
  }

  private fetchOrRepeatFailure(key: string, tenant: string, version: 1 | 2): Promise<CachedMetadata> {
    const failed = this.failures.get(key);
    if (failed?.backoff.isWaiting) return Promise.reject(this.repeat(failed));
    return this.fetchMetadata(tenant, version).then(
      (loaded) => {
        this.failures.delete(key);
        this.cache.set(key, loaded);
        return loaded;
      },
      (error: unknown) => {
        const failure = failed ?? { backoff: new RetryBackoff({ initialMs: RETRY_INITIAL_MS, maxMs: RETRY_MAX_MS, nowMs: () => this.options.clock.nowMs() }), error: toFailure(error) };
        failure.error = toFailure(error);
        failure.backoff.failed();
        this.failures.set(key, failure);
        throw this.repeat(failure);
      },
    );
  }

  /** The remembered failure, with the `Retry-After` of the backoff's remaining wait. */
  private repeat(failed: FailedMetadata): IdentityProviderUnavailableError | ClientConfigurationError {
    const { error } = failed;
    if (error instanceof ClientConfigurationError) return error;
    return new IdentityProviderUnavailableError(error.message, failed.backoff.retryAfterSec, error.entra, { cause: error.cause });
  }

  private async fetchMetadata(tenant: string, version: 1 | 2): Promise<CachedMetadata> {
    const url = version === 2 ? `${this.authorityUrl(tenant)}/v2.0/.well-known/openid-configuration` : `${this.authorityUrl(tenant)}/.well-known/openid-configuration`;
    let response: Response;
    try {
      response = await this.options.fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs), headers: { accept: 'application/json' } });
    } catch (error) {
      this.logger.warn(`Discovery for tenant ${tenant} failed: ${error instanceof Error ? error.message : 'network error'}`);
      throw new IdentityProviderUnavailableError('The identity provider could not be reached for its discovery document.', 30, {}, { cause: error });
    }
    const raw = await response.text();
    if (!response.ok && isInvalidTenant(response.status, raw)) {
      const shown = tenant.replace(/[^\w.-]/g, '?');
      if (!this.reportedUnknownTenants.has(shown)) {
        this.reportedUnknownTenants.add(shown);
        this.logger.error(
          `Configuration error: the identity provider at ${this.options.authorityHost} does not know tenant '${shown}' (invalid_tenant). Check tenantId (a tenant id or verified domain) and authorityHost (the tenant's cloud).`,
        );
      }
      throw new ClientConfigurationError('The identity provider does not know the configured tenant (invalid_tenant).', { error: 'invalid_tenant', errorCodes: [90002] });
    }
    if (!response.ok) {
      this.logger.warn(`Discovery for tenant ${tenant} answered HTTP ${response.status}`);
      throw new IdentityProviderUnavailableError(`The identity provider's discovery document answered HTTP ${response.status}.`, 30);
    }
    let metadata: OpenIdMetadata;
    try {
      metadata = JSON.parse(raw) as OpenIdMetadata;
    } catch (error) {
      throw new IdentityProviderUnavailableError("The identity provider's discovery document is not JSON.", 30, {}, { cause: error });
    }
    if (typeof metadata.issuer !== 'string' || typeof metadata.jwks_uri !== 'string' || typeof metadata.token_endpoint !== 'string') {
      throw new IdentityProviderUnavailableError("The identity provider's discovery document lacks issuer, jwks_uri or token_endpoint.", 30);
    }
    return { metadata, raw, fetchedAtMs: this.options.clock.nowMs() };
  }
}

function documentKey(tenant: string, version: 1 | 2): string {
  return `${version}|${tenant.toLowerCase()}`;
}

function toFailure(error: unknown): IdentityProviderUnavailableError | ClientConfigurationError {
  if (error instanceof ClientConfigurationError || error instanceof IdentityProviderUnavailableError) return error;
  return new IdentityProviderUnavailableError('The identity provider could not be reached for its discovery document.', 1, {}, { cause: error });
}

/**
 * Entra answers discovery for a tenant it does not know with HTTP 400 and `{"error":"invalid_tenant", "error_codes":
 * [90002], ...}` ("AADSTS90002: Tenant '...' not found"), where a healthy tenant gets 200.
 */
function isInvalidTenant(status: number, raw: string): boolean {
  if (status !== 400) return false;
  try {
    const body = JSON.parse(raw) as { error?: unknown; error_codes?: unknown };
    return body.error === 'invalid_tenant' || (Array.isArray(body.error_codes) && body.error_codes.includes(90002));
  } catch {
    return false;
  }
}
