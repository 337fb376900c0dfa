import type { EmulatorApp, EmulatorUser } from './directory.js';
import { entraErrors } from './entra-errors.js';
import type { UserGrant } from './grant-store.js';
import { claimsChallengeFor } from './policies.js';
import { includesAllScopes, resolveRequestedScopes, type RequestedScopes } from './scopes.js';
import type { AuthenticatedTokenRequest, EmulatorServices, TokenResponseBody } from './services.js';
import { lifetimeFields } from './token-lifetimes.js';
import type { ClientAuthenticationMethod } from './tokens.js';

/**
 * How consent is judged. A user signing in interactively consents on the spot, so only an explicit denial stops it;
 * On-Behalf-Of cannot show a prompt, so every scope needs a grant (API permission, or pre-authorisation).
 */
export type ConsentMode = 'interactive' | 'non-interactive';

export interface UserTokenIssue {
  grant: UserGrant;
  user: EmulatorUser;
  client: EmulatorApp;
  requested: RequestedScopes;
  authenticatedBy: ClientAuthenticationMethod;
  consent: ConsentMode;
  /** Whether the client asked for `client_info` (msal always does). */
  includeClientInfo: boolean;
  nonce?: string | undefined;
  /** A refresh token is being redeemed: the answer carries its replacement, `offline_access` asked for or not. */
  replacesRefreshToken?: boolean;
}

/** Checks Conditional Access for this user and resource, in Entra's order: a block wins over a second factor. */
export function enforceConditionalAccess(services: EmulatorServices, user: EmulatorUser, resource: EmulatorApp, amr: readonly string[]): void {
  const policies = services.policies.applicable(user, resource, user.tenantId);
  if (policies.some((policy) => policy.grant === 'block')) throw entraErrors.blockedByConditionalAccess();
  if (amr.includes('mfa')) return;
  const registration = policies.filter((policy) => policy.grant === 'mfa-registration');
  if (registration.length > 0) throw entraErrors.mfaRegistrationRequired(claimsChallengeFor(registration.map((policy) => policy.id), 'polids'));
  const mfa = policies.filter((policy) => policy.grant === 'mfa');
  if (mfa.length > 0) throw entraErrors.mfaRequired(resource.identifierUris[0] ?? resource.clientId, claimsChallengeFor(mfa.map((policy) => policy.id)));
}

function grantedScopes(services: EmulatorServices, issue: UserTokenIssue, resource: EmulatorApp): string[] {
  const { client, requested } = issue;
  const permitted = client.apiPermissions[resource.clientId] ?? [];
  const preAuthorized = resource.preAuthorizedClients.includes(client.clientId);
  const isDefault = requested.scopes.includes('.default');
  const scopes = isDefault ? (permitted.length > 0 || issue.consent === 'non-interactive' ? permitted : resource.scopes) : requested.scopes;
  const consented =
    scopes.length > 0 &&
    !services.policies.isConsentDenied(client, resource, scopes) &&
    (issue.consent === 'interactive' || preAuthorized || includesAllScopes(permitted, scopes));
  if (!consented) throw entraErrors.consentRequired(client.clientId, resource.identifierUris[0] ?? resource.clientId);
  return scopes;
}

function clientInfo(user: EmulatorUser): string {
  return Buffer.from(JSON.stringify({ uid: user.id, utid: user.tenantId })).toString('base64url');
}

/**
 * The token response for a user: access token (for the resource, or for Microsoft Graph when only OIDC scopes were
 * asked, as Entra does), ID token for `openid`, refresh token for `offline_access`.
 */
export async function issueUserTokens(services: EmulatorServices, issue: UserTokenIssue): Promise<TokenResponseBody> {
  const { requested, user, client } = issue;
  const resource = requested.resource ?? services.directory.microsoftGraph;
  enforceConditionalAccess(services, user, resource, issue.grant.amr);
  const scopes = requested.resource ? grantedScopes(services, issue, resource) : ['User.Read', ...requested.oidc].filter((scope) => scope !== 'offline_access');
  const prefix = requested.resourcePrefix ?? resource.identifierUris[0] ?? resource.clientId;
  const accessToken = await services.issuer.userAccessToken({
    user,
    client,
    resource,
    scopes,
    amr: issue.grant.amr,
    authenticatedBy: issue.authenticatedBy,
    ...(requested.resourcePrefix ? { requestedAudience: requested.resourcePrefix } : {}),
    clientCapabilities: issue.grant.clientCapabilities,
    ...(issue.grant.acrs?.length ? { acrs: issue.grant.acrs } : {}),
  });
  const body: TokenResponseBody = {
    token_type: 'Bearer',
    // Entra names Microsoft Graph's scopes bare (`User.Read`) in the response, other resources' with their prefix.
    scope: scopes.map((scope) => (resource.clientId !== services.directory.microsoftGraph.clientId ? `${prefix}/${scope}` : scope)).join(' '),
    ...lifetimeFields(accessToken),
    access_token: accessToken.token,
  };
  // "Refresh tokens replace themselves with a fresh token upon every use" (learn.microsoft.com/entra/identity-platform/refresh-tokens).
  if (requested.oidc.has('offline_access') || issue.replacesRefreshToken) {
    const { refreshTokenSec, spaRefreshTokenSec } = services.issuer.lifetimes;
    body.refresh_token = services.grants.issueRefreshToken(issue.grant, issue.grant.platform === 'spa' ? spaRefreshTokenSec : refreshTokenSec);
  }
  if (requested.oidc.has('openid')) {
    body.id_token = (await services.issuer.idToken({ user, client, nonce: issue.nonce })).token;
  }
  if (issue.includeClientInfo) body.client_info = clientInfo(user);
  return body;
}

/**
 * The tokens for a grant the user gave earlier (an authorization code, or a refresh token): the user must still exist,
 * and the scopes asked for now (or, when the request names none, `defaultScope`) are judged as the grant's origin
 * judged them. A sign-in consented on the spot, so only an explicit denial stops it; a refresh token born from
 * On-Behalf-Of is judged as On-Behalf-Of is, with no one to prompt: every scope needs a grant (API permission or
 * pre-authorisation), and Conditional Access applies with the MFA state of the sign-in behind the exchanged token.
 */
export function redeemUserGrant(
  services: EmulatorServices,
  request: AuthenticatedTokenRequest,
  grant: UserGrant,
  options: { defaultScope?: string | undefined; nonce?: string | undefined; replacesRefreshToken?: boolean } = {},
): Promise<TokenResponseBody> {
  const user = services.directory.findUser(grant.userId);
  if (!user) throw entraErrors.userNotFound(grant.userId);
  const { params, client } = request;
  return issueUserTokens(services, {
    grant,
    user,
    client,
    requested: resolveRequestedScopes(params.get('scope') ?? options.defaultScope ?? null, services.directory, grant.tenantId),
    authenticatedBy: request.authenticatedBy,
    consent: grant.origin === 'on-behalf-of' ? 'non-interactive' : 'interactive',
    includeClientInfo: params.get('client_info') === '1',
    ...(options.nonce !== undefined ? { nonce: options.nonce } : {}),
    ...(options.replacesRefreshToken ? { replacesRefreshToken: true } : {}),
  });
}
