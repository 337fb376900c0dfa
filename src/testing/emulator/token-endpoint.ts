import type { IncomingMessage } from 'node:http';
import { authenticateClient } from './client-authentication.js';
import { entraErrors } from './entra-errors.js';
import { authorizationCodeGrant } from './grants/authorization-code.grant.js';
import { clientCredentialsGrant } from './grants/client-credentials.grant.js';
import { CLIENT_CREDENTIALS_GRANT, JWT_BEARER_GRANT } from './grant-types.js';
import { onBehalfOfGrant } from './grants/on-behalf-of.grant.js';
import { refreshTokenGrant } from './grants/refresh-token.grant.js';
import { basicCredentials } from './http.js';
import { CONSUMERS_TENANT_ID, type EmulatorApp } from './directory.js';
import type { EmulatorServices, GrantHandler, TokenResponseBody } from './services.js';

const GRANTS: Record<string, GrantHandler> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  [CLIENT_CREDENTIALS_GRANT]: clientCredentialsGrant,
  [JWT_BEARER_GRANT]: onBehalfOfGrant,
};

/** `common` and `organizations` let the user's own tenant decide. */
const MULTI_TENANT_SEGMENTS = new Set(['common', 'organizations']);

/**
 * The tenant a URL names: its GUID, or undefined for `common`/`organizations`; unknown tenants are an error.
 * `consumers` is the personal-account tenant (`9188040d-…`): it has discovery and keys, but no work or school app
 * and no user of the emulator's directory can use it.
 */
export function resolveTenantSegment(segment: string, services: EmulatorServices): string | undefined {
  const key = segment.toLowerCase();
  if (MULTI_TENANT_SEGMENTS.has(key)) return undefined;
  if (key === 'consumers' || key === CONSUMERS_TENANT_ID) return CONSUMERS_TENANT_ID;
  const tenant = services.directory.findTenant(segment);
  if (!tenant) throw entraErrors.tenantNotFound(segment);
  return tenant.id;
}

/** Grants a public client may use without a credential, and what decides it for each. */
function publicClientAllowed(grantType: string, params: URLSearchParams, client: EmulatorApp, services: EmulatorServices): boolean {
  if (grantType === 'authorization_code') {
    return client.isFallbackPublicClient || services.grants.platformOf('code', params.get('code') ?? '') === 'spa';
  }
  if (grantType === 'refresh_token') {
    return client.isFallbackPublicClient || services.grants.platformOf('refresh_token', params.get('refresh_token') ?? '') === 'spa';
  }
  return false;
}

/**
 * The v1 endpoint (`/oauth2/token`) names the API with `resource` instead of scopes; the emulator answers it as a
 * v2 request for `{resource}/.default` (plus the scopes given, e.g. `openid`).
 */
export function v1ParamsAsV2(params: URLSearchParams): URLSearchParams {
  const translated = new URLSearchParams(params);
  const resource = params.get('resource');
  if (resource) {
    translated.delete('resource');
    translated.set('scope', [`${resource.replace(/\/$/, '')}/.default`, ...(params.get('scope') ?? '').split(/\s+/).filter((scope) => scope && !scope.endsWith('/.default'))].join(' '));
  }
  return translated;
}

/** A v2 token response in v1's shape: numbers as strings (`refresh_in` too), `expires_on`, `not_before` and `resource`. */
export function v2ResponseAsV1(body: TokenResponseBody, resource: string | null, nowSec: number): TokenResponseBody {
  const expiresIn = Number(body.expires_in);
  const { scope, ...rest } = body;
  return {
    token_type: rest.token_type,
    ...(typeof scope === 'string' ? { scope: scope.split(' ').map((name) => name.slice(name.lastIndexOf('/') + 1)).join(' ') } : {}),
    expires_in: String(expiresIn),
    ext_expires_in: String(body.ext_expires_in),
    ...(body.refresh_in !== undefined ? { refresh_in: String(body.refresh_in) } : {}),
    expires_on: String(nowSec + expiresIn),
    not_before: String(nowSec),
    ...(resource ? { resource } : {}),
    ...Object.fromEntries(Object.entries(rest).filter(([name]) => !['token_type', 'expires_in', 'ext_expires_in', 'refresh_in'].includes(name))),
  };
}

/** `POST /{tenant}/oauth2/v2.0/token`: authenticates the client, then hands the request to its grant. */
export async function handleTokenRequest(
  request: IncomingMessage,
  params: URLSearchParams,
  tenantSegment: string,
  services: EmulatorServices,
): Promise<TokenResponseBody> {
  const tenantId = resolveTenantSegment(tenantSegment, services);
  const grantType = params.get('grant_type');
  if (!grantType) throw entraErrors.missingParameter('grant_type');
  const grant = GRANTS[grantType];
  if (!grant) throw entraErrors.unsupportedGrantType(grantType);

  const basic = basicCredentials(request);
  const clientId = (params.get('client_id') ?? basic?.clientId)?.toLowerCase();
  if (!clientId) throw entraErrors.missingParameter('client_id');
  const client = services.directory.findApp(clientId);
  if (!client || client.clientId !== clientId || (tenantId !== undefined && !services.directory.isAppAvailableIn(client, tenantId))) {
    throw entraErrors.unknownClient(clientId, tenantId ?? tenantSegment);
  }
  const endpointTenants = new Set([tenantSegment, tenantId ?? tenantSegment]);
  const tokenEndpoints = [...endpointTenants].flatMap((tenant) => [
    `${services.authorityHost}/${tenant}/oauth2/v2.0/token`,
    `${services.authorityHost}/${tenant}/oauth2/token`,
  ]);
  const authenticatedBy = await authenticateClient(
    client,
    {
      clientSecret: params.get('client_secret') ?? basic?.clientSecret,
      clientAssertionType: params.get('client_assertion_type') ?? undefined,
      clientAssertion: params.get('client_assertion') ?? undefined,
    },
    { tokenEndpoints, clock: services.clock, allowPublic: publicClientAllowed(grantType, params, client, services) },
  );
  return grant({ params, tenantId, client, authenticatedBy }, services);
}
