import { CONSUMERS_TENANT_ID } from './directory.js';
import type { EmulatorServices } from './services.js';
import type { SigningKeyRing } from './signing-keys.js';

/**
 * Discovery documents with Entra's fields. For a named tenant (by GUID or by domain) the endpoints and the issuer
 * carry its GUID, as Entra lists them; for `common` and `organizations` the endpoints keep the segment and the issuer
 * is the literal `{tenantid}` template; `consumers` keeps its segment with the consumers tenant's GUID as issuer.
 * Only endpoints the emulator answers are listed (so no device code, Kerberos or check-session endpoints).
 */
export function openIdConfiguration(services: EmulatorServices, tenantSegment: string, tenantId: string | undefined, version: 1 | 2, graphBaseUrl: string): Record<string, unknown> {
  const host = services.authorityHost;
  const issuerTenant = tenantId ?? '{tenantid}';
  const isNamedTenant = tenantId !== undefined && tenantId !== CONSUMERS_TENANT_ID;
  const base = `${host}/${isNamedTenant ? tenantId : tenantSegment}`;
  const cloud = {
    tenant_region_scope: isNamedTenant ? 'EU' : null,
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
  if (version === 1) {
    // The v1 field set (login.microsoftonline.com/{tenant}/.well-known/openid-configuration); keys are common to all.
    return {
      token_endpoint: `${base}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${host}/common/discovery/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
      scopes_supported: ['openid'],
      issuer: services.issuer.issuerV1(issuerTenant),
      microsoft_multi_refresh_token: true,
      authorization_endpoint: `${base}/oauth2/authorize`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/logout`,
      claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'amr', 'nonce', 'email', 'given_name', 'family_name', 'nickname'],
      ...cloud,
    };
  }
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: services.issuer.issuerV2(issuerTenant),
    request_uri_parameter_supported: false,
    // Entra points at Graph's userinfo; the emulator's Graph stand-in answers it.
    userinfo_endpoint: `${graphBaseUrl}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    ...cloud,
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
