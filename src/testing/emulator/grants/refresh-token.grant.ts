import { entraErrors } from '../entra-errors.js';
import { resolveRequestedScopes } from '../scopes.js';
import type { GrantHandler } from '../services.js';
import { issueUserTokens } from '../user-tokens.js';

/** Redeems a refresh token for any resource the user may reach; the response carries a new refresh token. */
export const refreshTokenGrant: GrantHandler = async (request, services) => {
  const { params, client } = request;
  const refreshToken = params.get('refresh_token');
  if (!refreshToken) throw entraErrors.missingParameter('refresh_token');
  const grant = services.grants.redeemRefreshToken(refreshToken);
  if (grant === 'revoked') throw entraErrors.refreshTokenRevoked();
  if (grant === 'expired') throw entraErrors.refreshTokenExpired();
  if (grant === 'unknown' || grant.clientId !== client.clientId) throw entraErrors.refreshTokenInvalid();
  const user = services.directory.findUser(grant.userId);
  if (!user) throw entraErrors.userNotFound(grant.userId);
  const requested = resolveRequestedScopes(params.get('scope'), services.directory, grant.tenantId);
  return issueUserTokens(services, {
    grant,
    user,
    client,
    requested,
    authenticatedBy: request.authenticatedBy,
    consent: 'interactive',
    includeClientInfo: params.get('client_info') === '1',
  });
};
