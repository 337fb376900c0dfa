import { EmulatorDirectory, MICROSOFT_GRAPH_APP_ID, MICROSOFT_GRAPH_RESOURCE, type EmulatorApp } from './directory.js';
import { EntraProtocolError } from './entra-errors.js';
import { resolveRequestedScopes, splitScopeParameter } from './scopes.js';
import { CONTOSO_ID, FABRIKAM_ID, twoTenantDirectory } from './unit-fixtures.spec.fixtures.js';


/** The EntraProtocolError `run` throws, so a test can check its `error` and AADSTS number. */
function failureOf(run: () => unknown): EntraProtocolError {
  try {
    run();
  } catch (error) {
    if (error instanceof EntraProtocolError) return error;
    throw error;
  }
  throw new Error('expected an EntraProtocolError, but nothing was thrown');
}

describe('resolveRequestedScopes', () => {
  let directory: EmulatorDirectory;
  let api: EmulatorApp;
  let namedApi: EmulatorApp;
  let multiTenantApi: EmulatorApp;

  beforeEach(() => {
    ({ directory } = twoTenantDirectory());
    api = directory.addApp({ displayName: 'API', tenantId: CONTOSO_ID, scopes: ['access_as_user', 'Files.Read'] });
    namedApi = directory.addApp({ displayName: 'Named', tenantId: CONTOSO_ID, scopes: ['read'], identifierUris: ['https://contoso.example/api'] });
    multiTenantApi = directory.addApp({ displayName: 'Multi', tenantId: CONTOSO_ID, signInAudience: 'AzureADMultipleOrgs', scopes: ['read'] });
  });

  it('sets OIDC scopes aside, lower-cased, whatever case they were sent in', () => {
    const requested = resolveRequestedScopes(`OpenID Profile offline_access EMAIL api://${api.clientId}/access_as_user`, directory, CONTOSO_ID);
    expect(requested.oidc).toEqual(new Set(['openid', 'profile', 'offline_access', 'email']));
    expect(requested.resource).toBe(api);
    expect(requested.scopes).toEqual(['access_as_user']);
  });

  it('has no resource when only OIDC scopes were asked', () => {
    const requested = resolveRequestedScopes('openid profile', directory, CONTOSO_ID);
    expect(requested).toEqual({ scopes: [], oidc: new Set(['openid', 'profile']) });
    expect('resource' in requested).toBe(false);
    expect('resourcePrefix' in requested).toBe(false);
  });

  it('resolves an App ID URI prefix and remembers it as the prefix', () => {
    const requested = resolveRequestedScopes(`api://${api.clientId}/access_as_user api://${api.clientId}/Files.Read`, directory, CONTOSO_ID);
    expect(requested).toMatchObject({ resource: api, resourcePrefix: `api://${api.clientId}`, scopes: ['access_as_user', 'Files.Read'] });
  });

  it('resolves a client-id prefix', () => {
    const requested = resolveRequestedScopes(`${api.clientId}/access_as_user`, directory, CONTOSO_ID);
    expect(requested).toMatchObject({ resource: api, resourcePrefix: api.clientId, scopes: ['access_as_user'] });
  });

  it('resolves a custom App ID URI with a path, splitting at the last slash', () => {
    const requested = resolveRequestedScopes('https://contoso.example/api/read', directory, CONTOSO_ID);
    expect(requested).toMatchObject({ resource: namedApi, resourcePrefix: 'https://contoso.example/api', scopes: ['read'] });
  });

  it('resolves .default', () => {
    const requested = resolveRequestedScopes(`api://${api.clientId}/.default`, directory, CONTOSO_ID);
    expect(requested).toMatchObject({ resource: api, scopes: ['.default'] });
  });

  it('lists a repeated scope once, even when named through two prefixes of the same app', () => {
    const requested = resolveRequestedScopes(`api://${api.clientId}/access_as_user ${api.clientId}/access_as_user`, directory, CONTOSO_ID);
    expect(requested).toMatchObject({ resource: api, resourcePrefix: `api://${api.clientId}`, scopes: ['access_as_user'] });
  });

  it('treats a null or blank scope as nothing asked', () => {
    expect(resolveRequestedScopes(null, directory, CONTOSO_ID)).toEqual({ scopes: [], oidc: new Set() });
    expect(resolveRequestedScopes('   ', directory, CONTOSO_ID)).toEqual({ scopes: [], oidc: new Set() });
  });

  it('answers invalid_resource (AADSTS500011) for an unknown resource, naming it and the tenant', () => {
    const failure = failureOf(() => resolveRequestedScopes('api://unknown/read', directory, CONTOSO_ID));
    expect(failure).toMatchObject({ error: 'invalid_resource', aadsts: 500011, status: 400 });
    expect(failure.message).toContain('api://unknown');
    expect(failure.message).toContain(CONTOSO_ID);
  });

  // A bare name like `User.Read` means Microsoft Graph, which exists in every tenant.
  it('resolves a bare scope name to Microsoft Graph, in every tenant', () => {
    for (const tenant of [CONTOSO_ID, FABRIKAM_ID]) {
      const requested = resolveRequestedScopes('User.Read openid', directory, tenant);
      expect(requested).toMatchObject({ resource: directory.microsoftGraph, resourcePrefix: MICROSOFT_GRAPH_RESOURCE, scopes: ['User.Read'] });
      expect(requested.resource!.clientId).toBe(MICROSOFT_GRAPH_APP_ID);
    }
    expect(resolveRequestedScopes(`${MICROSOFT_GRAPH_APP_ID}/Mail.Read`, directory, CONTOSO_ID)).toMatchObject({ resourcePrefix: MICROSOFT_GRAPH_APP_ID, scopes: ['Mail.Read'] });
  });

  // Scope names are case-insensitive in Entra (Microsoft's on-behalf-of sample asks for `user.read`); the registered
  // spelling is what the token's scp and the response's scope carry.
  it('compares scope names and .default without regard to case, answering with the registered spelling', () => {
    expect(resolveRequestedScopes('user.read', directory, CONTOSO_ID).scopes).toEqual(['User.Read']);
    expect(resolveRequestedScopes('HTTPS://GRAPH.MICROSOFT.COM/USER.READ', directory, CONTOSO_ID).scopes).toEqual(['User.Read']);
    expect(resolveRequestedScopes(`api://${api.clientId}/files.read api://${api.clientId}/Files.Read`, directory, CONTOSO_ID).scopes).toEqual(['Files.Read']);
    expect(resolveRequestedScopes(`api://${api.clientId}/.DEFAULT`, directory, CONTOSO_ID).scopes).toEqual(['.default']);
  });

  it('answers invalid_scope (AADSTS70011) for a scope the resource does not expose', () => {
    const failure = failureOf(() => resolveRequestedScopes(`api://${api.clientId}/admin`, directory, CONTOSO_ID));
    expect(failure).toMatchObject({ error: 'invalid_scope', aadsts: 70011 });
    expect(failure.message).toContain(`api://${api.clientId}/admin`);
  });

  it('answers AADSTS28000 for scopes of two resources', () => {
    const failure = failureOf(() => resolveRequestedScopes(`api://${api.clientId}/access_as_user https://contoso.example/api/read`, directory, CONTOSO_ID));
    expect(failure).toMatchObject({ error: 'invalid_scope', aadsts: 28000 });
  });

  it('answers invalid_scope for .default mixed with a named scope, in either order', () => {
    for (const scope of [`api://${api.clientId}/.default api://${api.clientId}/access_as_user`, `api://${api.clientId}/access_as_user api://${api.clientId}/.default`]) {
      const failure = failureOf(() => resolveRequestedScopes(scope, directory, CONTOSO_ID));
      expect(failure).toMatchObject({ error: 'invalid_scope', aadsts: 70011 });
      expect(failure.message).toContain(`api://${api.clientId}/.default`);
    }
  });

  it('does not find a single-tenant app from another tenant, but does find a multi-tenant one', () => {
    const failure = failureOf(() => resolveRequestedScopes(`api://${api.clientId}/access_as_user`, directory, FABRIKAM_ID));
    expect(failure).toMatchObject({ error: 'invalid_resource', aadsts: 500011 });
    expect(failure.message).toContain(FABRIKAM_ID);
    expect(resolveRequestedScopes(`api://${multiTenantApi.clientId}/read`, directory, FABRIKAM_ID).resource).toBe(multiTenantApi);
  });
});

describe('splitScopeParameter', () => {
  it('splits on any run of whitespace and drops empty parts', () => {
    expect(splitScopeParameter('  openid\tprofile\n api://x/read  ')).toEqual(['openid', 'profile', 'api://x/read']);
  });

  it('yields nothing for null or an empty string', () => {
    expect(splitScopeParameter(null)).toEqual([]);
    expect(splitScopeParameter('')).toEqual([]);
  });
});
