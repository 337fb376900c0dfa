import type { EmulatorServices } from './services.js';
import type { SigningKeyRing } from './signing-keys.js';

/**
 * Discovery documents with Entra's fields. For a named tenant the issuer carries its GUID; for `common` and
 * `organizations` it is the literal `{tenantid}` template, as Entra publishes it.
 */
export function openIdConfiguration(services: EmulatorServices, tenantSegment: string, tenantId: string | undefined, version: 1 | 2): Record<string, unknown> {
  const host = services.authorityHost;
  const issuerTenant = tenantId ?? '{tenantid}';
  const v2 = version === 2;
  const base = `${host}/${tenantSegment}`;
  return {
    token_endpoint: v2 ? `${base}/oauth2/v2.0/token` : `${base}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: v2 ? `${base}/discovery/v2.0/keys` : `${base}/discovery/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', v2 ? 'id_token token' : 'token id_token', ...(v2 ? [] : ['token'])],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: v2 ? services.issuer.issuerV2(issuerTenant) : services.issuer.issuerV1(issuerTenant),
    request_uri_parameter_supported: false,
    userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
    authorization_endpoint: v2 ? `${base}/oauth2/v2.0/authorize` : `${base}/oauth2/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: v2 ? `${base}/oauth2/v2.0/logout` : `${base}/oauth2/logout`,
    claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

/** Signing keys; the v2 endpoint adds each key's `issuer`, which resources use for key-issuer validation. */
export function jsonWebKeySet(services: EmulatorServices, keys: SigningKeyRing, tenantId: string | undefined, version: 1 | 2) {
  return keys.jwks(version === 2 ? services.issuer.issuerV2(tenantId ?? '{tenantid}') : undefined);
}

/** `/common/discovery/instance`: the cloud's aliases, which MSAL asks for before trusting an authority. */
export function instanceDiscovery(services: EmulatorServices, authorizationEndpoint: string | null): Record<string, unknown> {
  const host = new URL(services.authorityHost).host;
  let tenant = 'common';
  if (authorizationEndpoint) {
    try {
      tenant = new URL(authorizationEndpoint).pathname.split('/').filter(Boolean)[0] ?? 'common';
    } catch {
      tenant = 'common';
    }
  }
  return {
    tenant_discovery_endpoint: `${services.authorityHost}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}
