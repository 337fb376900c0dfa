import { Inject, Injectable, Logger } from '@nestjs/common';
import type { MetadataSettings } from '../config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from '../config/tokens.js';
import { IdentityProviderUnavailableError } from '../errors/obo-errors.js';

/** The fields of an OpenID Connect discovery document that the library uses. */
export interface OpenIdMetadata {
  issuer: string;
  jwks_uri: string;
  token_endpoint: string;
  authorization_endpoint: string;
  [name: string]: unknown;
}

interface CachedMetadata {
  metadata: OpenIdMetadata;
  /** The document as served, for MSAL's `authorityMetadata` (which then makes no request of its own). */
  raw: string;
  fetchedAtMs: number;
}

const METADATA_TTL_MS = 24 * 3600 * 1000;
const MAX_TENANTS_CACHED = 1000;

/**
 * Fetches and caches discovery documents per tenant and version, through the configured `fetch`. Concurrent first
 * requests for a tenant share one fetch; failures are not cached.
 */
@Injectable()
export class AuthorityMetadataClient {
  private readonly logger = new Logger('OboModule');
  private readonly cache = new Map<string, CachedMetadata>();
  private readonly inFlight = new Map<string, Promise<CachedMetadata>>();

  constructor(@Inject(OBO_RESOLVED_OPTIONS) private readonly options: MetadataSettings) {}

  /** `https://{host}/{tenant}`: the authority URL for a tenant. */
  authorityUrl(tenant: string): string {
    return `${this.options.authorityHost}/${tenant}`;
  }

  async get(tenant: string, version: 1 | 2 = 2): Promise<OpenIdMetadata> {
    return (await this.load(tenant, version)).metadata;
  }

  /** The v2 discovery document as text, for MSAL's `authorityMetadata`. */
  async getRaw(tenant: string): Promise<string> {
    return (await this.load(tenant, 2)).raw;
  }

  /**
   * MSAL's `cloudDiscoveryMetadata` for our authority host, built locally so MSAL never calls instance discovery:
   * with it and `authorityMetadata`, an exchange makes exactly one request, the token request.
   */
  cloudDiscoveryMetadata(tenant: string): string {
    const host = new URL(this.options.authorityHost).host;
    return JSON.stringify({
      tenant_discovery_endpoint: `${this.options.authorityHost}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  }

  private async load(tenant: string, version: 1 | 2): Promise<CachedMetadata> {
    const key = `${version}|${tenant.toLowerCase()}`;
    const cached = this.cache.get(key);
    if (cached && this.options.clock.nowMs() - cached.fetchedAtMs < METADATA_TTL_MS) return cached;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.fetchMetadata(tenant, version).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    try {
      const loaded = await pending;
      this.cache.delete(key);
      this.cache.set(key, loaded);
      if (this.cache.size > MAX_TENANTS_CACHED) this.cache.delete(this.cache.keys().next().value!);
      return loaded;
    } catch (error) {
      // A failed refresh keeps serving the last good document.
      if (cached) return cached;
      throw error;
    }
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
