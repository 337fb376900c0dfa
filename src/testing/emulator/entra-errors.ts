import { randomUUID } from 'node:crypto';

export type EntraErrorCode =
  | 'invalid_request'
  | 'invalid_tenant'
  | 'invalid_grant'
  | 'invalid_client'
  | 'unauthorized_client'
  | 'invalid_scope'
  | 'invalid_resource'
  | 'interaction_required'
  | 'consent_required'
  | 'login_required'
  | 'unsupported_grant_type'
  | 'temporarily_unavailable'
  | 'server_error';

/** A protocol error the emulator answers with, shaped the way Entra shapes it. */
export class EntraProtocolError extends Error {
  constructor(
    readonly error: EntraErrorCode,
    /** The AADSTS number Entra puts first in `error_description` and in `error_codes`. */
    readonly aadsts: number,
    readonly detail: string,
    readonly extras: { status?: number; suberror?: string; claims?: string } = {},
  ) {
    super(`AADSTS${aadsts}: ${detail}`);
    this.name = 'EntraProtocolError';
  }

  get status(): number {
    return this.extras.status ?? (this.error === 'invalid_client' ? 401 : 400);
  }
}

/** A duration as Entra's messages write it (.NET's TimeSpan): `90.00:00:00`, `1.00:00:00`, `12:00:00`. */
export function timeSpan(ms: number): string {
  const totalSec = Math.floor(ms / 1000);
  const days = Math.floor(totalSec / 86_400);
  const clock = [Math.floor(totalSec / 3600) % 24, Math.floor(totalSec / 60) % 60, totalSec % 60].map((part) => String(part).padStart(2, '0')).join(':');
  return days > 0 ? `${days}.${clock}` : clock;
}

/** Entra's timestamp format in error bodies: `2026-11-28 19:35:46Z`. */
export function entraTimestamp(nowMs: number): string {
  return new Date(nowMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function entraErrorBody(
  failure: EntraProtocolError,
  context: { correlationId: string | undefined; nowMs: number; errorUriBase: string; traceId?: string },
): Record<string, unknown> {
  // Entra's trace_id is the response's x-ms-request-id header.
  const traceId = context.traceId ?? randomUUID();
  const correlationId = context.correlationId ?? randomUUID();
  const timestamp = entraTimestamp(context.nowMs);
  return {
    error: failure.error,
    error_description: `${failure.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [failure.aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${context.errorUriBase}/error?code=${failure.aadsts}`,
    ...(failure.extras.suberror ? { suberror: failure.extras.suberror } : {}),
    ...(failure.extras.claims ? { claims: failure.extras.claims } : {}),
  };
}

/** One builder per OAuth error code the catalogue uses more than once: an entry then reads as its AADSTS number and text. */
const failureWith =
  (error: EntraErrorCode) =>
  (aadsts: number, detail: string, extras?: EntraProtocolError['extras']): EntraProtocolError =>
    new EntraProtocolError(error, aadsts, detail, extras);
const invalidClient = failureWith('invalid_client');
const invalidGrant = failureWith('invalid_grant');
const invalidRequest = failureWith('invalid_request');
const invalidScope = failureWith('invalid_scope');
const unauthorizedClient = failureWith('unauthorized_client');

/** The catalogue of failures, one constructor per Entra error, so call sites read as the situation they describe. */
export const entraErrors = {
  missingParameter: (name: string) => invalidRequest(900144, `The request body must contain the following parameter: '${name}'.`),
  malformedRequest: (why: string) => invalidRequest(90014, why),
  unsupportedGrantType: (grantType: string) => new EntraProtocolError('unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`),
  tenantNotFound: (tenant: string) => new EntraProtocolError('invalid_tenant', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`),
  unknownClient: (clientId: string, tenant: string) => unauthorizedClient(700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`),
  missingClientCredential: () => invalidClient(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
  wrongClientSecret: (clientId: string) => invalidClient(7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`),
  badClientAssertion: (reason: string) => invalidClient(700027, `Client assertion failed signature validation. [Reason - ${reason}]`),
  clientAssertionTime: () => invalidClient(700024, 'Client assertion is not within its valid time range.'),
  clientAssertionClaims: (reason: string) => invalidClient(50027, `Invalid JWT token. ${reason}`),
  malformedAssertion: () => invalidRequest(50027, 'JWT token is invalid or malformed.'),
  assertionSignature: () => invalidGrant(50013, 'Assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: unknown]'),
  assertionIssuer: () => invalidGrant(50013, 'Assertion failed signature validation. [Reason - The provided issuer is not valid for this tenant.]'),
  assertionExpired: () => invalidGrant(500133, 'Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token.'),
  assertionAudience: () => invalidGrant(500131, 'Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was not the app presenting it.'),
  idTokenAssertion: () => invalidRequest(240002, "Input id_token cannot be used as 'urn:ietf:params:oauth:grant-type:jwt-bearer' grant."),
  appOnlyAssertion: (clientId: string) => unauthorizedClient(7000114, `Application '${clientId}' is not allowed to make application on-behalf-of calls.`),
  mfaRequired: (resourceId: string, claims: string) => invalidGrant(50076, `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${resourceId}'.`, { suberror: 'basic_action', claims }),
  mfaRegistrationRequired: (claims: string) => new EntraProtocolError('interaction_required', 50079, 'Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication.', { claims }),
  blockedByConditionalAccess: () => invalidGrant(53003, 'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.'),
  consentRequired: (clientId: string, resourceId: string) => invalidGrant(65001, `The user or administrator has not consented to use the application with ID '${clientId}'. Send an interactive authorization request for this user and resource '${resourceId}'.`, { suberror: 'consent_required' }),
  invalidScope: (scope: string) => invalidScope(70011, `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`),
  scopesForSeveralResources: () => invalidScope(28000, "Provided value for the input parameter scope is not valid because it contains more than one resource."),
  resourceNotFound: (resource: string, tenant: string) => new EntraProtocolError('invalid_resource', 500011, `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`),
  pkceMismatch: () => invalidGrant(501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.'),
  codeRedeemed: () => invalidGrant(54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.'),
  codeInvalid: () => invalidGrant(70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.'),
  redirectUriMismatch: (clientId: string) => invalidRequest(50011, `The redirect URI specified in the request does not match the redirect URIs configured for the application '${clientId}'.`),
  codeForAnotherClient: () => invalidGrant(70008, 'The provided authorization code was issued to a different client.'),
  refreshTokenInvalid: () => invalidGrant(9002313, 'Invalid request. Request is malformed or invalid. The refresh token is not valid for this client.'),
  refreshTokenRevoked: () => invalidGrant(50173, 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.'),
  refreshTokenExpired: (issuedAtMs: number, inactiveMs: number) =>
    invalidGrant(700082, `The refresh token has expired due to inactivity. The token was issued on ${new Date(issuedAtMs).toISOString()} and was inactive for ${timeSpan(inactiveMs)}.`),
  refreshTokenSpaExpired: (issuedAtMs: number, lifetimeMs: number) =>
    invalidGrant(
      700084,
      `The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of ${timeSpan(lifetimeMs)}, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page. The token was issued on ${new Date(issuedAtMs).toISOString()}.`,
    ),
  pkceRequired: () => invalidRequest(9002325, "Proof Key for Code Exchange is required: the request must contain 'code_challenge' with 'code_challenge_method=S256'."),
  userNotFound: (username: string) => invalidGrant(50034, `The user account ${username} does not exist in the directory.`),
  loginRequired: () => new EntraProtocolError('login_required', 50058, 'A silent sign-in request was sent but no user is signed in.'),
  temporarilyUnavailable: (status: number) => new EntraProtocolError('temporarily_unavailable', 50000, 'There was an error issuing a token or an authorization code. Please try again later.', { status }),
};
