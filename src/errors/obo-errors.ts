import { HttpException } from '@nestjs/common';
import { configurationMessage, type ConfigurationSubject } from './configuration-message.js';
import { oboErrorBody, oboErrorStatus, type OboErrorBody } from './obo-error-body.js';

/**
 * Every failure the library reports is an `OboError` with a literal `code`, so callers can `switch` on it. Each is a
 * Nest `HttpException` with its RFC 6750 status and body, so every Nest error path renders it; the module's filter
 * adds the challenge headers on HTTP and answers GraphQL, WebSocket and RPC callers. Messages never contain a token, a
 * secret or a claim value; the original error is kept as `cause`, and raw Entra responses are attached
 * non-enumerably so they never reach a log.
 */
export type OboErrorCode =
  | 'missing_token'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'app_only_token'
  | 'insufficient_claims'
  | 'consent_required'
  | 'conditional_access_blocked'
  | 'invalid_grant'
  | 'client_configuration'
  | 'identity_provider_unavailable'
  | 'configuration';

export abstract class OboError extends HttpException {
  abstract readonly code: OboErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 500, options);
    this.name = new.target.name;
    // HttpException assigns these as enumerable fields; hidden again, as Error keeps its own, so serialising the error
    // (a log line, a WebSocket frame) never carries the cause or its options.
    for (const field of ['message', 'name', 'options', 'cause']) Object.defineProperty(this, field, { enumerable: false });
    // Read by whoever inspects HttpException's fields rather than its methods (@nestjs/apollo's status mapping).
    Object.defineProperty(this, 'response', { get: () => this.getResponse(), enumerable: false });
    Object.defineProperty(this, 'status', { get: () => this.getStatus(), enumerable: false });
  }

  /** From `code`, which subclasses set after this constructor ran: so computed when asked. */
  override getStatus(): number {
    return oboErrorStatus(this);
  }

  override getResponse(): OboErrorBody {
    return oboErrorBody(this);
  }
}

/** Details of an Entra error response that are safe to log: codes and ids, never tokens or claim values. */
export interface EntraErrorDetails {
  /** OAuth error (`invalid_grant`, ...). */
  error?: string;
  /** AADSTS numbers. */
  errorCodes?: number[];
  suberror?: string;
  correlationId?: string;
  traceId?: string;
}

/**
 * A failure Entra reported. Its details (codes and ids) are attached non-enumerably, so they are there for a handler
 * or a log line that asks, but never serialised with the error.
 */
export abstract class EntraResponseError extends OboError {
  declare readonly entra: EntraErrorDetails;

  constructor(message: string, entra: EntraErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    Object.defineProperty(this, 'entra', { value: entra, enumerable: false, writable: false, configurable: false });
  }
}

/** No bearer token on the request (or another scheme): 401 with a bare `Bearer` challenge. */
export class MissingTokenError extends OboError {
  readonly code = 'missing_token' as const;
  constructor(message = 'The request has no bearer access token.') {
    super(message);
  }
}

/** Which check refused a token, for logs and for callers that `switch` on it. */
export type InvalidTokenReason =
  | 'malformed'
  | 'too_large'
  | 'algorithm'
  | 'header_key'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'key_issuer'
  | 'tenant'
  | 'audience'
  | 'id_token'
  | 'no_permissions'
  | 'guest'
  /** The application's own check (a passport verify callback) refused it. */
  | 'rejected';

/** The bearer token failed validation: signature, issuer, audience, lifetime, type. */
export class InvalidTokenError extends OboError {
  readonly code = 'invalid_token' as const;
  /** Which check failed, for logs (`expired`, `audience`, `issuer`, `signature`, `id_token`, ...). */
  readonly reason: InvalidTokenReason;
  constructor(reason: InvalidTokenReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** The token lacks every scope or role the route accepts. */
export class InsufficientScopeError extends OboError {
  readonly code = 'insufficient_scope' as const;
  constructor(
    /** Scopes (and roles) any one of which would have been enough. */
    readonly requiredScopes: readonly string[],
    message = 'The access token does not grant a scope or role this operation requires.',
  ) {
    super(message);
  }
}

/** An app-only token (client credentials) reached an operation that acts for a user (On-Behalf-Of). */
export class AppOnlyTokenError extends OboError {
  readonly code = 'app_only_token' as const;
  constructor(message = 'This operation acts on behalf of a user; an app-only token cannot be used for it.') {
    super(message);
  }
}

/**
 * Entra wants more from the user (MFA, a fresh sign-in): the client must sign the user in again with `claims`
 * (AADSTS50076, 50079, or any error carrying a claims challenge).
 */
export class InsufficientClaimsError extends EntraResponseError {
  readonly code = 'insufficient_claims' as const;
  /**
   * The tenant whose authority the user must sign in at again (the caller's `tid`), when known; the challenge's
   * `authorization_uri` names it.
   */
  readonly tenantId: string | undefined;
  constructor(
    /** The claims challenge as Entra sent it (JSON). It names policies, not user data. */
    readonly claims: string,
    entra: EntraErrorDetails,
    options?: { cause?: unknown; tenantId?: string },
  ) {
    super(`Entra ID requires the user to satisfy a claims challenge (AADSTS${entra.errorCodes?.[0] ?? '?'}); sign in again with the claims.`, entra, options);
    this.tenantId = options?.tenantId;
  }
}

/** The API has no consent for the downstream scopes (AADSTS65001). */
export class ConsentRequiredError extends EntraResponseError {
  readonly code = 'consent_required' as const;
  constructor(
    readonly scopes: readonly string[],
    entra: EntraErrorDetails,
    options?: { cause?: unknown },
  ) {
    super(`Consent is missing for ${scopes.join(' ')}: an administrator must grant it, or the user must consent through the client application.`, entra, options);
  }
}

/** Conditional Access blocks the token outright (AADSTS53003); no claims challenge can satisfy it. */
export class ConditionalAccessBlockedError extends EntraResponseError {
  readonly code = 'conditional_access_blocked' as const;
  constructor(entra: EntraErrorDetails, options?: { cause?: unknown }) {
    super('Access is blocked by a Conditional Access policy (AADSTS53003).', entra, options);
  }
}

/** Entra refused the user's assertion (expired, for another app, bad signature): the caller needs a new token. */
export class InvalidGrantError extends EntraResponseError {
  readonly code = 'invalid_grant' as const;
}

/** Entra refused this API's own credential or registration: a deployment problem, not the caller's. */
export class ClientConfigurationError extends EntraResponseError {
  readonly code = 'client_configuration' as const;
}

/** The longest `Retry-After` taken from Entra or handed to a client: an hour. */
export const MAX_RETRY_AFTER_SEC = 3600;

/** A `Retry-After` in whole seconds, from 1 to an hour, whatever was measured or sent. */
export function boundedRetryAfterSec(seconds: number): number {
  if (!Number.isFinite(seconds)) return MAX_RETRY_AFTER_SEC;
  return Math.min(MAX_RETRY_AFTER_SEC, Math.max(1, Math.ceil(seconds)));
}

/** Entra is throttling, failing or unreachable: try again later. */
export class IdentityProviderUnavailableError extends EntraResponseError {
  readonly code = 'identity_provider_unavailable' as const;
  /** Seconds the client should wait, from Entra's `Retry-After` or our backoff: an integer from 1 to 3600. */
  readonly retryAfterSec: number;
  /** True when Entra throttled the request (429), as opposed to failing or being unreachable. */
  readonly throttled: boolean;

  constructor(message: string, retryAfterSec: number, entra: EntraErrorDetails = {}, options?: { cause?: unknown; throttled?: boolean }) {
    super(message, entra, options);
    this.retryAfterSec = boundedRetryAfterSec(retryAfterSec);
    this.throttled = options?.throttled === true;
  }
}

export type { ConfigurationSubject } from './configuration-message.js';

/**
 * Options (or routes) are invalid. Names what was misconfigured (`subject`, and the message's first line) and lists
 * every problem at once; never contains a secret.
 */
export class OboConfigurationError extends OboError {
  readonly code = 'configuration' as const;
  constructor(
    readonly problems: readonly string[],
    readonly subject: ConfigurationSubject = 'OboModule options',
  ) {
    super(configurationMessage(problems, subject));
  }
}

/** Every concrete error, as a union discriminated by `code`. */
export type KnownOboError =
  | MissingTokenError
  | InvalidTokenError
  | InsufficientScopeError
  | AppOnlyTokenError
  | InsufficientClaimsError
  | ConsentRequiredError
  | ConditionalAccessBlockedError
  | InvalidGrantError
  | ClientConfigurationError
  | IdentityProviderUnavailableError
  | OboConfigurationError;
