import type { IncomingMessage } from 'node:http';
import { authenticateClient } from './client-authentication.js';
import { entraErrors } from './entra-errors.js';
import { authorizationCodeGrant } from './grants/authorization-code.grant.js';
import { clientCredentialsGrant } from './grants/client-credentials.grant.js';
import { JWT_BEARER_GRANT, onBehalfOfGrant } from './grants/on-behalf-of.grant.js';
import { refreshTokenGrant } from './grants/refresh-token.grant.js';
import { basicCredentials } from './http.js';
import type { EmulatorServices, GrantHandler, TokenResponseBody } from './services.js';

const GRANTS: Record<string, GrantHandler> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
  [JWT_BEARER_GRANT]: onBehalfOfGrant,
};

/** `common` and `organizations` let the user's own tenant decide; `consumers` (personal accounts) is not emulated. */
const MULTI_TENANT_SEGMENTS = new Set(['common', 'organizations']);

/** The tenant a URL names: its GUID, or undefined for `common`/`organizations`; unknown tenants are an error. */
export function resolveTenantSegment(segment: string, services: EmulatorServices): string | undefined {
  if (MULTI_TENANT_SEGMENTS.has(segment.toLowerCase())) return undefined;
  const tenant = services.directory.findTenant(segment);
  if (!tenant) throw entraErrors.tenantNotFound(segment);
  return tenant.id;
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
    { tokenEndpoints, clock: services.clock },
  );
  return grant({ params, tenantId, client, authenticatedBy }, services);
}
