import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { boundedRetryAfterSec, OboError, type KnownOboError } from './obo-errors.js';
import { bearerChallenge } from './www-authenticate.js';

/** An error response: status, body, and headers; the body never echoes a token, a claim value or a secret. */
export interface OboErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { statusCode: number; error: string; message: string; scopes?: string[] };
}

/** The RFC 6750 mapping of DESIGN.md's error table. */
export function toErrorResponse(failure: OboError): OboErrorResponse {
  const error = failure as KnownOboError;
  const respond = (status: number, code: string, message: string, headers: Record<string, string> = {}, extra: { scopes?: string[] } = {}): OboErrorResponse => ({
    status,
    headers,
    body: { statusCode: status, error: code, message, ...extra },
  });
  switch (error.code) {
    case 'missing_token':
      return respond(401, 'unauthorized', error.message, { 'www-authenticate': bearerChallenge() });
    case 'invalid_token':
    case 'invalid_grant':
      return respond(401, 'invalid_token', error.message, { 'www-authenticate': bearerChallenge({ error: 'invalid_token', error_description: error.message }) });
    case 'insufficient_scope':
      return respond(403, 'insufficient_scope', error.message, {
        'www-authenticate': bearerChallenge({ error: 'insufficient_scope', scope: error.requiredScopes.join(' '), error_description: error.message }),
      });
    case 'app_only_token':
      return respond(403, 'insufficient_scope', error.message, { 'www-authenticate': bearerChallenge({ error: 'insufficient_scope', error_description: error.message }) });
    case 'insufficient_claims':
      // Entra's claims-challenge format: the client signs the user in again with `claims` (base64-decoded).
      return respond(401, 'insufficient_claims', error.message, {
        'www-authenticate': bearerChallenge({ error: 'insufficient_claims', error_description: 'The user must satisfy additional requirements (such as MFA); sign in again with the claims.', claims: Buffer.from(error.claims).toString('base64') }),
      });
    case 'consent_required':
      return respond(403, 'consent_required', error.message, {}, { scopes: [...error.scopes] });
    case 'conditional_access_blocked':
      return respond(403, 'conditional_access_blocked', error.message);
    case 'identity_provider_unavailable':
      return respond(503, 'temporarily_unavailable', 'The identity provider is unavailable; try again later.', { 'retry-after': String(boundedRetryAfterSec(error.retryAfterSec)) });
    case 'client_configuration':
    case 'configuration':
      return respond(500, 'internal_error', 'The service is misconfigured.');
  }
}

/**
 * Maps every `OboError` to its RFC 6750 response, on Express and Fastify alike (through Nest's HTTP adapter).
 * `OboModule` registers it; pass `exceptionFilter: false` to map the errors yourself (`toErrorResponse` helps).
 */
@Catch(OboError)
export class OboExceptionFilter implements ExceptionFilter<OboError> {
  private readonly logger = new Logger('OboModule');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: OboError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const { status, headers, body } = toErrorResponse(error);
    if (status === 500) this.logger.error(`${error.name}: ${error.message}`);
    const adapter = this.adapterHost.httpAdapter;
    const response = host.switchToHttp().getResponse<unknown>();
    for (const [name, value] of Object.entries(headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, body, status);
  }
}
