import { AccessTokenVerifier } from '../auth/access-token-verifier.js';
import { tenantRule } from '../config/option-rules.js';
import type { VerifierSettings } from '../config/resolve-options.js';
import { AuthorityMetadataClient } from '../discovery/authority-metadata.js';
import { BoundedMap } from '../util/bounded-map.js';
import { GUID_PATTERN } from '../util/ids.js';
import { Problems } from '../util/problems.js';

/**
 * passport-azure-ad's `BearerAuthenticateOptions`: what `passport.authenticate('oauth-bearer', options)` (or
 * `@nestjs/passport`'s `getAuthenticateOptions`) passes to each authentication. Other keys (`session`, ...) are
 * passport's own and ignored here.
 */
export interface BearerAuthenticateOptions {
  /**
   * With a `common`/`organizations` identityMetadata: the tenant (id or domain) this request's token must come from;
   * its own discovery documents and keys validate it. Ignored with a tenant-specific identityMetadata, as there.
   */
  tenantIdOrName?: string | null;
  [passportOption: string]: unknown;
}

/** Per-request tenants remembered at once; beyond that the oldest is dropped, so request input cannot grow memory. */
export const MAX_TENANT_VERIFIERS = 64;

/**
 * The strategy's verifiers: the configured one, and one per tenant named by a request's `tenantIdOrName` (bounded).
 * They share one discovery client, so a tenant's documents are fetched once whichever verifier asks.
 */
export class TenantVerifiers {
  readonly configured: AccessTokenVerifier;
  private readonly metadata: AuthorityMetadataClient;
  private readonly byTenant = new BoundedMap<string, AccessTokenVerifier>(MAX_TENANT_VERIFIERS);

  constructor(private readonly settings: VerifierSettings) {
    this.metadata = new AuthorityMetadataClient(settings);
    this.configured = new AccessTokenVerifier(settings, this.metadata);
  }

  /** How many per-request tenants have a verifier now (at most `MAX_TENANT_VERIFIERS`). */
  get tenantCount(): number {
    return this.byTenant.size;
  }

  /**
   * The verifier for one request. `tenantIdOrName` is checked with the module's tenant rule (a GUID or a domain;
   * `common`, `organizations` and `consumers` name no single tenant) and throws `OboConfigurationError` otherwise.
   * Undefined for a tenant id outside the accepted tenants (`issuer`): no token of it can pass, so nothing is fetched.
   */
  for(tenantIdOrName: unknown): AccessTokenVerifier | undefined {
    if (tenantIdOrName === undefined || tenantIdOrName === null) return this.configured;
    const problems = new Problems('BearerStrategy options');
    const { tenantId } = tenantRule(tenantIdOrName, 'tenantIdOrName (an authenticate option)', problems, { singleTenantOnly: true });
    problems.throwIfAny();
    // passport-azure-ad ignores tenantIdOrName with a tenant-specific identityMetadata: that tenant is the only one.
    if (!this.settings.isMultiTenant) return this.configured;
    const { allowedTenants } = this.settings;
    if (allowedTenants !== 'any' && GUID_PATTERN.test(tenantId) && !allowedTenants.has(tenantId)) return undefined;
    let verifier = this.byTenant.get(tenantId);
    if (!verifier) {
      const ownTenant = new Set(GUID_PATTERN.test(tenantId) ? [tenantId] : []);
      verifier = new AccessTokenVerifier({ ...this.settings, tenantId, isMultiTenant: false, allowedTenants: ownTenant }, this.metadata);
      this.byTenant.set(tenantId, verifier);
    }
    return verifier;
  }
}
