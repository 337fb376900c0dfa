import { AuthError } from '@azure/msal-node';
import {
  ClientConfigurationError,
  ConditionalAccessBlockedError,
  ConsentRequiredError,
  IdentityProviderUnavailableError,
  InsufficientClaimsError,
  InvalidGrantError,
  type EntraErrorDetails,
  type OboError,
} from '../errors/obo-errors.js';

/** What the network client saw of the last response: MSAL's errors carry no HTTP status. */
export interface ObservedResponse {
  status?: number;
  retryAfterSec?: number;
}

export interface MappedFailure {
  error: OboError;
  /** 5xx, timeouts and network failures are worth another attempt; a 429 and every 4xx are not. */
  retryable: boolean;
}

const CLIENT_CONFIGURATION_CODES = new Set(['invalid_client', 'unauthorized_client', 'invalid_scope', 'invalid_resource', 'unsupported_grant_type']);
const DEFAULT_THROTTLE_RETRY_AFTER_SEC = 60;
const DEFAULT_OUTAGE_RETRY_AFTER_SEC = 5;

/** `Retry-After` as seconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  // Only an IMF-fixdate counts: Date.parse would read many malformed values as some date.
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value.trim())) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - nowMs) / 1000));
}

function detailsOf(error: AuthError & { errorNo?: string | number; traceId?: string }): EntraErrorDetails {
  const errorNumber = error.errorNo !== undefined && error.errorNo !== null ? Number(error.errorNo) : Number.NaN;
  return {
    ...(error.errorCode ? { error: error.errorCode } : {}),
    ...(Number.isFinite(errorNumber) ? { errorCodes: [errorNumber] } : {}),
    ...(error.subError ? { suberror: error.subError } : {}),
    ...(error.correlationId ? { correlationId: error.correlationId } : {}),
    ...(error.traceId ? { traceId: error.traceId } : {}),
  };
}

/**
 * Turns what MSAL threw (plus the HTTP status it hides) into our errors, by Entra's error code and AADSTS number:
 * MFA and any claims challenge, consent, Conditional Access blocks, a rejected assertion, our own credential, and the
 * identity provider being throttled or down.
 */
export function mapMsalFailure(error: unknown, observed: ObservedResponse, scopes: readonly string[]): MappedFailure {
  if (!(error instanceof AuthError)) {
    return { error: new IdentityProviderUnavailableError('The token request failed unexpectedly.', DEFAULT_OUTAGE_RETRY_AFTER_SEC, {}, { cause: error }), retryable: true };
  }
  const failure = error as AuthError & { errorNo?: string | number; claims?: string; traceId?: string };
  const entra = detailsOf(failure);
  // msal-node's types say string, but at run time errorNo is Entra's number as sent.
  const aadsts = failure.errorNo !== undefined && failure.errorNo !== null ? String(failure.errorNo) : undefined;

  if (observed.status === 429) {
    const retryAfter = observed.retryAfterSec ?? DEFAULT_THROTTLE_RETRY_AFTER_SEC;
    return { error: new IdentityProviderUnavailableError('The identity provider is throttling token requests.', retryAfter, entra, { cause: error }), retryable: false };
  }
  if ((observed.status !== undefined && observed.status >= 500) || failure.errorCode === 'network_error' || failure.errorCode === 'token_parsing_error' || failure.errorCode === 'temporarily_unavailable') {
    const retryAfter = observed.retryAfterSec ?? DEFAULT_OUTAGE_RETRY_AFTER_SEC;
    const what = failure.errorCode === 'network_error' ? 'could not be reached or timed out' : 'failed to answer the token request';
    return { error: new IdentityProviderUnavailableError(`The identity provider ${what}.`, retryAfter, entra, { cause: error }), retryable: true };
  }
  if (aadsts === '65001' || failure.subError === 'consent_required' || failure.errorCode === 'consent_required') {
    return { error: new ConsentRequiredError(scopes, entra, { cause: error }), retryable: false };
  }
  if (aadsts === '53003') return { error: new ConditionalAccessBlockedError(entra, { cause: error }), retryable: false };
  if (typeof failure.claims === 'string' && failure.claims.length > 0) {
    return { error: new InsufficientClaimsError(failure.claims, entra, { cause: error }), retryable: false };
  }
  if (CLIENT_CONFIGURATION_CODES.has(failure.errorCode)) {
    return {
      error: new ClientConfigurationError(`Entra ID rejected this API's token request: ${failure.errorCode}${aadsts ? ` (AADSTS${aadsts})` : ''}. Check the client id, credential, and the scopes requested.`, entra, { cause: error }),
      retryable: false,
    };
  }
  if (failure.errorCode === 'invalid_grant' || failure.errorCode === 'invalid_request' || failure.errorCode === 'interaction_required') {
    return { error: new InvalidGrantError(`Entra ID refused the user's token for the exchange${aadsts ? ` (AADSTS${aadsts})` : ''}.`, entra, { cause: error }), retryable: false };
  }
  return {
    error: new IdentityProviderUnavailableError(`The token request failed: ${failure.errorCode || 'unknown error'}.`, DEFAULT_OUTAGE_RETRY_AFTER_SEC, entra, { cause: error }),
    retryable: false,
  };
}
