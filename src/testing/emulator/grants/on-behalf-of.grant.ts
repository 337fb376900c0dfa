import { entraErrors } from '../entra-errors.js';
import { decodeUnverified, hasValidSignature } from '../jwt.js';
import { resolveRequestedScopes } from '../scopes.js';
import type { GrantHandler } from '../services.js';
import { issueUserTokens } from '../user-tokens.js';
import { clientCapabilitiesFrom } from './client-capabilities.js';

/** Entra's tolerance for a user assertion's `nbf` in the future. */
const ASSERTION_SKEW_SEC = 300;

/**
 * The On-Behalf-Of grant, checked as Entra checks it: the assertion is a user's access token that this authority
 * signed, that has not expired, and whose audience is the app presenting it; then Conditional Access and consent.
 */
export const onBehalfOfGrant: GrantHandler = async (request, services) => {
  const { params, client } = request;
  const assertion = params.get('assertion');
  if (!assertion) throw entraErrors.missingParameter('assertion');
  if (params.get('requested_token_use') !== 'on_behalf_of') throw entraErrors.missingParameter('requested_token_use');
  if (!params.get('scope')) throw entraErrors.missingParameter('scope');

  const decoded = decodeUnverified(assertion);
  if (!decoded) throw entraErrors.malformedAssertion();
  const { header, claims } = decoded;
  const key = typeof header.kid === 'string' ? services.issuer.findVerificationKey(header.kid) : undefined;
  if (!key || header.alg !== 'RS256' || !(await hasValidSignature(assertion, key, ['RS256']))) throw entraErrors.assertionSignature();
  if (!services.issuer.isOwnIssuer(claims.iss, claims.tid)) throw entraErrors.assertionIssuer();
  const tenantId = claims.tid as string;
  if (request.tenantId !== undefined && request.tenantId !== tenantId) throw entraErrors.assertionIssuer();

  const hasScopes = typeof claims.scp === 'string' && claims.scp.length > 0;
  const hasRoles = Array.isArray(claims.roles) && claims.roles.length > 0;
  const isAppToken = claims.idtyp === 'app' || (!hasScopes && (hasRoles || (typeof claims.oid === 'string' && claims.oid === claims.sub)));
  if (isAppToken) throw entraErrors.appOnlyAssertion(client.clientId);
  if (!hasScopes) throw entraErrors.idTokenAssertion();

  const now = services.clock.nowSec();
  if (typeof claims.exp !== 'number' || claims.exp <= now) throw entraErrors.assertionExpired();
  if (typeof claims.nbf === 'number' && claims.nbf - ASSERTION_SKEW_SEC > now) throw entraErrors.assertionExpired();

  const audience = typeof claims.aud === 'string' ? claims.aud.toLowerCase() : '';
  if (audience !== client.clientId && !client.identifierUris.some((uri) => uri.toLowerCase() === audience)) {
    throw entraErrors.assertionAudience();
  }

  const user = typeof claims.oid === 'string' ? services.directory.findUser(claims.oid) : undefined;
  if (!user || user.tenantId !== tenantId) throw entraErrors.userNotFound(String(claims.preferred_username ?? claims.upn ?? claims.oid));
  if (!services.directory.isAppAvailableIn(client, tenantId)) throw entraErrors.unknownClient(client.clientId, tenantId);

  const requested = resolveRequestedScopes(params.get('scope'), services.directory, tenantId);
  if (!requested.resource) throw entraErrors.invalidScope(params.get('scope') ?? '');
  // Entra keeps MFA state with the sign-in session, not in the token (v2 access tokens carry no amr): the assertion's
  // uti leads back to the sign-in it came from. A token the emulator did not issue (or has forgotten) counts as a
  // password-only sign-in.
  const amr = [...(services.issuer.signInOf(claims.uti)?.amr ?? ['pwd'])];

  return issueUserTokens(services, {
    // The refresh token (offline_access) remembers its origin: redeeming it is judged as this exchange was.
    grant: { clientId: client.clientId, userId: user.id, tenantId, amr, clientCapabilities: clientCapabilitiesFrom(params.get('claims')), origin: 'on-behalf-of' },
    user,
    client,
    requested,
    authenticatedBy: request.authenticatedBy,
    consent: 'non-interactive',
    includeClientInfo: params.get('client_info') === '1',
  });
};
