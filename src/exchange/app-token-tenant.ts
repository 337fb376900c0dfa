import { CONSUMERS_TENANT_ID, type ResolvedOboOptions } from '../config/resolve-options.js';
import { isGuid } from '../util/ids.js';

/**
 * The tenant an app token is requested in, checked before it goes into a URL: a single-tenant API only its own (by
 * id, by its domain, or by that domain's id, which `configuredTenantId` looks up), a multi-tenant API only tenant ids
 * it accepts. Anything else is a programming error (`TypeError`), and no request is made.
 */
export async function appTokenTenant(
  requested: string | undefined,
  options: Pick<ResolvedOboOptions, 'tenantId' | 'isMultiTenant' | 'allowedTenants'>,
  configuredTenantId: () => Promise<string | undefined>,
): Promise<string> {
  const configured = options.tenantId;
  if (requested === undefined) {
    if (options.isMultiTenant) throw new TypeError('acquireTokenForApp: a multi-tenant API must say which tenant ({ tenantId })');
    return configured;
  }
  const tenant = typeof requested === 'string' ? requested.trim().toLowerCase() : '';
  if (!options.isMultiTenant) {
    if (tenant === configured) return configured;
    // Configured by domain: its tenant id (from the discovery document) names the same tenant.
    if (isGuid(tenant) && !isGuid(configured) && (await configuredTenantId()) === tenant) return configured;
    throw new TypeError(`acquireTokenForApp: tenantId must be this API's tenant (${configured})`);
  }
  if (!isGuid(tenant)) throw new TypeError('acquireTokenForApp: tenantId must be a tenant id (GUID)');
  // Personal Microsoft accounts: no app registration acts there with client credentials.
  const allowed = options.allowedTenants === 'any' ? tenant !== CONSUMERS_TENANT_ID : options.allowedTenants.has(tenant);
  if (!allowed) throw new TypeError(`acquireTokenForApp: tenant ${tenant} is not among the tenants this API accepts (allowedTenants)`);
  return tenant;
}
