import type { KnownOboError, OboError } from './obo-errors.js';

/** The JSON body of an error response; it never echoes a token, a claim value or a secret. */
export interface OboErrorBody {
  statusCode: number;
  /** RFC 6750's error code (`invalid_token`, `insufficient_scope`, ...), or ours where RFC 6750 has none. */
  error: string;
  message: string;
  /** The scopes that lack consent (`consent_required` only). */
  scopes?: string[];
}

/** Status and body `error` of each code: the README's error table (RFC 6750 §3.1 for the 401s and 403s). */
const RESPONSES: Record<KnownOboError['code'], readonly [status: number, error: string]> = {
  missing_token: [401, 'unauthorized'],
  invalid_token: [401, 'invalid_token'],
  invalid_grant: [401, 'invalid_token'],
  insufficient_claims: [401, 'insufficient_claims'],
  insufficient_scope: [403, 'insufficient_scope'],
  app_only_token: [403, 'insufficient_scope'],
  consent_required: [403, 'consent_required'],
  conditional_access_blocked: [403, 'conditional_access_blocked'],
  identity_provider_unavailable: [503, 'temporarily_unavailable'],
  client_configuration: [500, 'internal_error'],
  configuration: [500, 'internal_error'],
};

/** The messages that replace the error's own where it could name a deployment detail or an upstream failure. */
const GENERIC_MESSAGES: Partial<Record<number, string>> = {
  503: 'The identity provider is unavailable; try again later.',
  500: 'The service is misconfigured.',
};

export function oboErrorStatus(failure: OboError): number {
  return RESPONSES[(failure as KnownOboError).code][0];
}

/** The body every transport answers with: HTTP as it is, GraphQL in `extensions`, WebSocket and RPC as the error. */
export function oboErrorBody(failure: OboError): OboErrorBody {
  const error = failure as KnownOboError;
  const [statusCode, code] = RESPONSES[error.code];
  const body: OboErrorBody = { statusCode, error: code, message: GENERIC_MESSAGES[statusCode] ?? error.message };
  if (error.code === 'consent_required') body.scopes = [...error.scopes];
  return body;
}
