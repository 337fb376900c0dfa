import { entraErrors } from '../entra-errors.js';
import type { GrantHandler } from '../services.js';
import { redeemInteractiveGrant } from '../user-tokens.js';

/** Redeems a refresh token for any resource the user may reach; the response carries a new refresh token. */
export const refreshTokenGrant: GrantHandler = async (request, services) => {
  const { params, client } = request;
  const refreshToken = params.get('refresh_token');
  if (!refreshToken) throw entraErrors.missingParameter('refresh_token');
  const grant = services.grants.redeemRefreshToken(refreshToken);
  if (grant === 'revoked') throw entraErrors.refreshTokenRevoked();
  if (grant === 'expired') throw entraErrors.refreshTokenExpired();
  if (grant === 'unknown' || grant.clientId !== client.clientId) throw entraErrors.refreshTokenInvalid();
  return redeemInteractiveGrant(services, request, grant);
};
