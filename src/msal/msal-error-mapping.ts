import { AuthError } from '@azure/msal-node';
import {
  ClientConfigurationError,
  ConditionalAccessBlockedError,
  ConsentRequiredError,
  IdentityProviderUnavailableError,
  InsufficientClaimsError,
  InvalidGrantError,
  type EntraErrorDetails,
  MAX_RETRY_AFTER_SEC,
  type OboError,
} from '../errors/obo-errors.js';
import { isGuid } from '../util/ids.js';

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

/** `Retry-After` as whole seconds (delta-seconds or an HTTP date), at most an hour: Entra's value is not trusted blindly. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(MAX_RETRY_AFTER_SEC, Number(text.slice(0, 10)));
  // Only an IMF-fixdate counts: Date.parse would read many malformed values as some date.
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.min(MAX_RETRY_AFTER_SEC, Math.max(0, Math.ceil((date - nowMs) / 1000)));
}

/** OAuth error names are `[a-z_]`; anything else from the wire is replaced, so it never reaches a message or a log. */
const ERROR_NAME = /^[a-z_]{1,64}$/;
const UNRECOGNISED = 'unrecognised_error';

function errorName(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return ERROR_NAME.test(value) ? value : UNRECOGNISED;
}

/** An AADSTS number, only when it is one (a positive integer); Entra's JSON could hold anything. */
function aadstsNumber(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const text = String(value);
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}

/**
 * Entra's `error_description` made safe for one log line: printable ASCII only (no CR/LF to forge lines), bounded.
 * It describes the failure and carries no secret; it is logged for configuration errors, never sent to a client.
 */
export function describeForLog(description: unknown): string | undefined {
  if (typeof description !== 'string') return undefined;
  const printable = description.replace(/[^\x20-\x7e]+/g, ' ').trim();
  if (printable === '') return undefined;
  return printable.length > 300 ? `${printable.slice(0, 300)}...` : printable;
}

function detailsOf(error: AuthError & { errorNo?: string | number; traceId?: string }): EntraErrorDetails {
  const name = errorName(error.errorCode);
  const errorNumber = aadstsNumber(error.errorNo);
  const suberror = errorName(error.subError);
  return {
    ...(name ? { error: name } : {}),
    ...(errorNumber !== undefined ? { errorCodes: [errorNumber] } : {}),
    ...(suberror ? { suberror } : {}),
    ...(isGuid(error.correlationId) ? { correlationId: error.correlationId } : {}),
    ...(isGuid(error.traceId) ? { traceId: error.traceId } : {}),
  };
}

/**
 * Turns what MSAL threw (plus the HTTP status it hides) into our errors, by Entra's error code and AADSTS number:
 * MFA and any claims challenge (naming `tenantId`, where the user signs in again), consent, Conditional Access
 * blocks, a rejected assertion, our own credential, and the identity provider being throttled or down.
 */
export function mapMsalFailure(error: unknown, observed: ObservedResponse, scopes: readonly string[], tenantId?: string): MappedFailure {
  if (!(error instanceof AuthError)) {
    return { error: new IdentityProviderUnavailableError('The token request failed unexpectedly.', DEFAULT_OUTAGE_RETRY_AFTER_SEC, {}, { cause: error }), retryable: true };
  }
  const failure = error as AuthError & { errorNo?: string | number; claims?: string; traceId?: string };
  const entra = detailsOf(failure);
  // msal-node's types say string, but at run time errorNo is Entra's number as sent; only a number is used.
  const aadsts = entra.errorCodes?.[0] !== undefined ? String(entra.errorCodes[0]) : undefined;
  const errorCode = entra.error;

  if (observed.status === 429) {
    const retryAfter = observed.retryAfterSec ?? DEFAULT_THROTTLE_RETRY_AFTER_SEC;
    return { error: new IdentityProviderUnavailableError('The identity provider is throttling token requests.', retryAfter, entra, { cause: error, throttled: true }), retryable: false };
  }
  if ((observed.status !== undefined && observed.status >= 500) || errorCode === 'network_error' || errorCode === 'token_parsing_error' || errorCode === 'temporarily_unavailable') {
    const retryAfter = observed.retryAfterSec ?? DEFAULT_OUTAGE_RETRY_AFTER_SEC;
    const what = errorCode === 'network_error' ? 'could not be reached or timed out' : 'failed to answer the token request';
    return { error: new IdentityProviderUnavailableError(`The identity provider ${what}.`, retryAfter, entra, { cause: error }), retryable: true };
  }
  if (aadsts === '65001' || entra.suberror === 'consent_required' || errorCode === 'consent_required') {
    return { error: new ConsentRequiredError(scopes, entra, { cause: error }), retryable: false };
  }
  if (aadsts === '53003') return { error: new ConditionalAccessBlockedError(entra, { cause: error }), retryable: false };
  if (typeof failure.claims === 'string' && failure.claims.length > 0) {
    return { error: new InsufficientClaimsError(failure.claims, entra, { cause: error, ...(tenantId ? { tenantId } : {}) }), retryable: false };
  }
  if (errorCode !== undefined && CLIENT_CONFIGURATION_CODES.has(errorCode)) {
    return {
      error: new ClientConfigurationError(`Entra ID rejected this API's token request: ${errorCode}${aadsts ? ` (AADSTS${aadsts})` : ''}. Check the client id, credential, and the scopes requested.`, entra, { cause: error }),
      retryable: false,
    };
  }
  if (errorCode === 'invalid_grant' || errorCode === 'invalid_request' || errorCode === 'interaction_required') {
    return { error: new InvalidGrantError(`Entra ID refused the user's token for the exchange${aadsts ? ` (AADSTS${aadsts})` : ''}.`, entra, { cause: error }), retryable: false };
  }
  return {
    error: new IdentityProviderUnavailableError(`The token request failed: ${errorCode ?? 'unknown error'}.`, DEFAULT_OUTAGE_RETRY_AFTER_SEC, entra, { cause: error }),
    retryable: false,
  };
}
