import { entraErrors } from '../entra-errors.js';
import type { GrantHandler } from '../services.js';
import { redeemUserGrant } from '../user-tokens.js';

/**
 * Redeems a refresh token for any resource the user may reach; the response carries a new refresh token. Refresh
 * tokens are bound to a user and a client, not to a resource or tenant
 * (https://learn.microsoft.com/entra/identity-platform/refresh-tokens), so only the client is checked here; what the
 * grant it came from allows (consent, Conditional Access, the sign-in's MFA) is judged in `redeemUserGrant`.
 */
export const refreshTokenGrant: GrantHandler = async (request, services) => {
  const { params, client } = request;
  const refreshToken = params.get('refresh_token');
  if (!refreshToken) throw entraErrors.missingParameter('refresh_token');
  const grant = services.grants.redeemRefreshToken(refreshToken);
  if (grant === 'revoked') throw entraErrors.refreshTokenRevoked();
  if (grant === 'unknown' || ('clientId' in grant && grant.clientId !== client.clientId)) throw entraErrors.refreshTokenInvalid();
  if ('expired' in grant) {
    if (grant.expired === 'inactive') throw entraErrors.refreshTokenExpired(grant.issuedAtMs, grant.lifetimeMs);
    // Entra names the SPA's whole fixed lifetime, counted from the sign-in's first refresh token.
    const spaLifetimeMs = services.issuer.lifetimes.spaRefreshTokenSec * 1000;
    throw entraErrors.refreshTokenSpaExpired(grant.issuedAtMs + grant.lifetimeMs - spaLifetimeMs, spaLifetimeMs);
  }
  return redeemUserGrant(services, request, grant, { replacesRefreshToken: true });
};
