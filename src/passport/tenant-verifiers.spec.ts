import { OboConfigurationError } from '../errors/obo-errors.js';
import { verifierSettingsFromBearerOptions } from './bearer-strategy-options.js';
import { MAX_TENANT_VERIFIERS, TenantVerifiers } from './tenant-verifiers.js';

const CLIENT = '1f75d70b-655c-41a6-a281-4cee5f0ff250';
const TENANT = '08ca7782-ab9b-4297-96fe-a80d943ee9f4';
// Discovery never runs here: verifiers fetch lazily, on their first token.
const refusingFetch: typeof fetch = async () => {
  throw new Error('no network in this spec');
};

function verifiersFor(tenantSegment: string, extra: Record<string, unknown> = {}): TenantVerifiers {
  const { settings } = verifierSettingsFromBearerOptions({
    identityMetadata: `https://login.microsoftonline.com/${tenantSegment}/v2.0/.well-known/openid-configuration`,
    clientID: CLIENT,
    fetch: refusingFetch,
    ...extra,
  });
  return new TenantVerifiers(settings);
}

const tenantNumber = (index: number) => `${index.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;

describe('TenantVerifiers (tenantIdOrName per request)', () => {
  it('uses the configured verifier when no tenant is named (undefined or null)', () => {
    const verifiers = verifiersFor('common', { validateIssuer: false });
    expect(verifiers.for(undefined)).toBe(verifiers.configured);
    expect(verifiers.for(null)).toBe(verifiers.configured);
  });

  it('keeps one verifier per named tenant, the same for the same tenant whatever its case', () => {
    const verifiers = verifiersFor('common', { validateIssuer: false });
    const byId = verifiers.for(TENANT);
    expect(byId).not.toBe(verifiers.configured);
    expect(verifiers.for(TENANT.toUpperCase())).toBe(byId);
    expect(verifiers.for('contoso.onmicrosoft.com')).not.toBe(byId);
    expect(verifiers.tenantCount).toBe(2);
  });

  it('has no verifier (and fetches nothing) for a tenant id outside the accepted issuers\' tenants', () => {
    const verifiers = verifiersFor('common', { issuer: `https://login.microsoftonline.com/${TENANT}/v2.0` });
    expect(verifiers.for(tenantNumber(7))).toBeUndefined();
    expect(verifiers.for(TENANT)).toBeDefined();
    // A domain's tenant id is known only from its documents: its verifier checks it, and the issuer list still applies.
    expect(verifiers.for('fabrikam.onmicrosoft.com')).toBeDefined();
    expect(verifiers.tenantCount).toBe(2);
  });

  it(`remembers at most ${MAX_TENANT_VERIFIERS} tenants, dropping the oldest`, () => {
    const verifiers = verifiersFor('organizations', { validateIssuer: false });
    const first = verifiers.for(tenantNumber(0));
    for (let index = 1; index <= MAX_TENANT_VERIFIERS; index += 1) verifiers.for(tenantNumber(index));
    expect(verifiers.tenantCount).toBe(MAX_TENANT_VERIFIERS);
    expect(verifiers.for(tenantNumber(0))).not.toBe(first);
    expect(verifiers.tenantCount).toBe(MAX_TENANT_VERIFIERS);
  });

  it('ignores a named tenant with a tenant-specific identityMetadata, as passport-azure-ad did, after checking it', () => {
    const verifiers = verifiersFor(TENANT);
    expect(verifiers.for('fabrikam.onmicrosoft.com')).toBe(verifiers.configured);
    expect(() => verifiers.for('common')).toThrow(OboConfigurationError);
    expect(verifiers.tenantCount).toBe(0);
  });

  it.each(['common', 'organizations', 'consumers', 'not a tenant', '', 42, {}])('refuses %p with the module\'s tenant rule, not echoing it', (tenant) => {
    const verifiers = verifiersFor('common', { validateIssuer: false });
    let caught: unknown;
    try {
      verifiers.for(tenant);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OboConfigurationError);
    const error = caught as OboConfigurationError;
    expect(error.subject).toBe('BearerStrategy options');
    expect(error.problems[0]).toMatch(/^tenantIdOrName \(an authenticate option\) must be a tenant id \(GUID\) or a tenant domain/);
    // Only the fixed note on 'consumers' names a value; a value from a request is never shown.
    if (typeof tenant === 'string' && tenant.length > 0 && tenant !== 'consumers') expect(error.message).not.toContain(tenant);
    expect(verifiers.tenantCount).toBe(0);
  });
});
