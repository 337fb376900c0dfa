import { EntraProtocolError, entraErrors } from '../entra-errors.js';
import { resolveRequestedScopes } from '../scopes.js';
import type { GrantHandler } from '../services.js';
import { lifetimeFields } from '../token-lifetimes.js';

/** Client credentials: exactly `{resource}/.default`, at a named tenant; the token carries the granted app roles. */
export const clientCredentialsGrant: GrantHandler = async (request, services) => {
  const { params, client } = request;
  if (request.tenantId === undefined) {
    throw new EntraProtocolError('invalid_request', 90009, 'The client credentials flow needs a tenant-specific authority, not common or organizations.');
  }
  const scope = params.get('scope');
  if (!scope) throw entraErrors.missingParameter('scope');
  const requested = resolveRequestedScopes(scope, services.directory, request.tenantId);
  if (!requested.resource || requested.scopes.length !== 1 || requested.scopes[0] !== '.default' || requested.oidc.size > 0) {
    throw new EntraProtocolError('invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
  }
  const resource = requested.resource;
  const token = await services.issuer.appAccessToken({
    client,
    resource,
    tenantId: request.tenantId,
    servicePrincipalId: services.directory.servicePrincipalId(client, request.tenantId),
    roles: client.appPermissions[resource.clientId] ?? [],
    authenticatedBy: request.authenticatedBy,
    ...(requested.resourcePrefix ? { requestedAudience: requested.resourcePrefix } : {}),
  });
  return {
    token_type: 'Bearer',
    ...lifetimeFields(token),
    access_token: token.token,
  };
};
