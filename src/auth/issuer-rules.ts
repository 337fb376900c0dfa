import { CONSUMERS_TENANT_ID, type VerifierSettings } from '../config/resolve-options.js';
import type { InvalidTokenError } from '../errors/obo-errors.js';
import { invalid } from './rejection-log.js';

const TENANT_TEMPLATE = '{tenantid}';

/** Issuer forms accepted for a tenant, from the authority's own v2 and v1 discovery documents. */
export interface IssuerTemplates {
  v2: string;
  v1: string;
  /** The configured tenant's GUID (from discovery), or undefined for a multi-tenant API. */
  tenantId: string | undefined;
}

/** The issuers of the discovery documents as templates with `{tenantid}`, and the configured tenant's id. */
export function issuerTemplatesOf(v2Issuer: string, v1Issuer: string, settings: Pick<VerifierSettings, 'isMultiTenant' | 'tenantId'>): IssuerTemplates {
  const tenantId = settings.isMultiTenant ? undefined : /\/([0-9a-f-]{36})\/v2\.0$/i.exec(v2Issuer)?.[1]?.toLowerCase();
  if (!settings.isMultiTenant && !tenantId) throw new Error(`The discovery document of tenant ${settings.tenantId} names no tenant id in its issuer`);
  const asTemplate = (issuer: string) => (tenantId ? issuer.replace(tenantId, TENANT_TEMPLATE) : issuer).replace(/\{tenantid\}/i, TENANT_TEMPLATE);
  return { v2: asTemplate(v2Issuer), v1: asTemplate(v1Issuer), tenantId };
}

/**
 * The issuer, the signing key's issuer and the tenant of a token whose signature verified, checked in that order.
 * Returns the first problem, and the token's tenant's issuers (v2, v1) for guest detection.
 */
export function issuerAndTenantProblem(
  token: { tid: string; issuer: string | undefined; rawIssuer: unknown; keyIssuer: string | undefined },
  templates: IssuerTemplates,
  policy: Pick<VerifierSettings, 'tenantId' | 'allowedTenants' | 'allowPersonalAccounts'>,
): { problem: InvalidTokenError | undefined; tenantIssuers: string[] } {
  const { tid, issuer, keyIssuer } = token;
  const tenantIssuers = [templates.v2.replace(TENANT_TEMPLATE, tid), templates.v1.replace(TENANT_TEMPLATE, tid)];
  const result = (problem: InvalidTokenError | undefined) => ({ problem, tenantIssuers });
  if (!issuer || !tenantIssuers.includes(issuer)) {
    return result(invalid('issuer', 'The access token was not issued by the expected authority.', undefined, { claim: 'iss', expected: tenantIssuers, actual: token.rawIssuer }));
  }
  // Key-issuer validation, as Microsoft.IdentityModel does it (AadIssuerValidator.ValidateIssuerSigningKey): the
  // key's issuer, with {tenantid} = tid, must be the token's issuer or the v2 issuer of that tid. So a v1-issuer
  // token gets the same check as a v2 one: a key published for another tenant (the consumers tenant, say) signs
  // for nobody else.
  if (keyIssuer) {
    const bound = keyIssuer.replace(/\{tenantid\}/i, tid);
    if (bound !== issuer && bound !== tenantIssuers[0]) {
      return result(invalid('key_issuer', 'The signing key is not published for the token issuer.', undefined, { claim: 'key issuer', expected: [issuer, tenantIssuers[0]!], actual: keyIssuer }));
    }
  }
  const tenant = tid.toLowerCase();
  const isPersonalAccount = tenant === CONSUMERS_TENANT_ID;
  let tenantAllowed: boolean;
  if (templates.tenantId !== undefined) tenantAllowed = tenant === templates.tenantId;
  // Personal accounts: never under `organizations`, and under `common` only when asked for, whatever the tenant list.
  else if (isPersonalAccount) tenantAllowed = policy.tenantId === 'common' && policy.allowPersonalAccounts === true;
  else tenantAllowed = policy.allowedTenants === 'any' || policy.allowedTenants.has(tenant);
  if (!tenantAllowed) {
    const expected = templates.tenantId ?? (policy.allowedTenants === 'any' ? 'any organisational tenant' : [...policy.allowedTenants]);
    const message = isPersonalAccount ? 'Personal Microsoft account tokens are not accepted by this API.' : 'Tokens from this tenant are not accepted.';
    return result(invalid('tenant', message, undefined, { claim: 'tid', expected, actual: tid }));
  }
  return result(undefined);
}
