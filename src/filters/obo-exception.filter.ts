import { Catch, Inject, Logger, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ResolvedOboOptions } from '../config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from '../config/tokens.js';
import { boundedRetryAfterSec, OboError, type KnownOboError } from '../errors/obo-errors.js';
import { bearerChallenge } from '../errors/www-authenticate.js';
import { oboErrorBody, type OboErrorBody } from '../errors/obo-error-body.js';
import type { Observable } from 'rxjs';
import { answerRpc, answerWebSocket, graphqlErrorOf } from './transport-error-answers.js';

/** An error response: status, body, and headers; the body never echoes a token, a claim value or a secret. */
export interface OboErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: OboErrorBody;
}

/** Where a client sends the user to satisfy a claims challenge: the authority host and the caller's tenant. */
export interface ChallengeAuthority {
  /** `https://login.microsoftonline.com` unless configured otherwise. */
  authorityHost?: string;
  /** The caller's tenant (`tid`); `common` when unknown. The error's own `tenantId` takes precedence. */
  tenantId?: string;
}

const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/**
 * The RFC 6750 mapping of the README's error table. A claims challenge names the authority to sign in at in
 * `authorization_uri`, as resource APIs' challenges do in Entra (claims-challenge documentation): give it the
 * configured authority host and the caller's tenant.
 */
export function toErrorResponse(failure: OboError, authority: ChallengeAuthority = {}): OboErrorResponse {
  const body = oboErrorBody(failure);
  return { status: body.statusCode, headers: challengeHeaders(failure as KnownOboError, authority), body };
}

/** The headers beside the body: RFC 6750's `WWW-Authenticate` challenge, or `Retry-After` for an outage. */
function challengeHeaders(error: KnownOboError, authority: ChallengeAuthority): Record<string, string> {
  switch (error.code) {
    case 'missing_token':
      return { 'www-authenticate': bearerChallenge() };
    case 'invalid_token':
    case 'invalid_grant':
      return { 'www-authenticate': bearerChallenge({ error: 'invalid_token', error_description: error.message }) };
    case 'insufficient_scope':
      return { 'www-authenticate': bearerChallenge({ error: 'insufficient_scope', scope: error.requiredScopes.join(' '), error_description: error.message }) };
    case 'app_only_token':
      return { 'www-authenticate': bearerChallenge({ error: 'insufficient_scope', error_description: error.message }) };
    case 'insufficient_claims': {
      // Entra's claims-challenge format: the client finds the authority through authorization_uri and signs the user
      // in again there with `claims` (base64-decoded).
      // https://learn.microsoft.com/entra/identity-platform/claims-challenge
      const tenant = error.tenantId ?? authority.tenantId ?? 'common';
      const authorizationUri = `${authority.authorityHost ?? DEFAULT_AUTHORITY_HOST}/${tenant}/oauth2/v2.0/authorize`;
      return { 'www-authenticate': bearerChallenge({ realm: '', authorization_uri: authorizationUri, error: 'insufficient_claims', claims: Buffer.from(error.claims).toString('base64') }) };
    }
    case 'identity_provider_unavailable':
      return { 'retry-after': String(boundedRetryAfterSec(error.retryAfterSec)) };
    default:
      return {};
  }
}

/**
 * Maps every `OboError` to its RFC 6750 response, on Express and Fastify alike (through Nest's HTTP adapter); on
 * GraphQL, WebSockets and microservices to that transport's error (`transport-error-answers.ts`). Nest applies global
 * filters to GraphQL and microservices, not to gateways: there, add `@UseFilters(OboExceptionFilter)`.
 * `OboModule` registers it; pass `exceptionFilter: false` to map the errors yourself (`toErrorResponse` helps).
 */
@Catch(OboError)
export class OboExceptionFilter implements ExceptionFilter<OboError> {
  private readonly logger = new Logger('OboModule');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Optional() @Inject(OBO_RESOLVED_OPTIONS) private readonly options?: ResolvedOboOptions,
  ) {}

  catch(error: OboError, host: ArgumentsHost): void | Observable<never> {
    if (error.getStatus() === 500) this.logger.error(`${error.name}: ${error.message}`);
    const type = host.getType<string>();
    if (type === 'graphql') throw graphqlErrorOf(error);
    if (type === 'ws') return answerWebSocket(error, host);
    if (type === 'rpc') return answerRpc(error, host);
    if (type !== 'http') throw error;
    const { status, headers, body } = toErrorResponse(error, this.challengeAuthority(host));
    const adapter = this.adapterHost.httpAdapter;
    const response = host.switchToHttp().getResponse<unknown>();
    for (const [name, value] of Object.entries(headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, body, status);
  }

  /**
   * The authority a claims challenge points to: the configured host, and the caller's tenant from the principal the
   * guard attached (falling back to the configured tenant when the route validated the token itself).
   */
  private challengeAuthority(host: ArgumentsHost): ChallengeAuthority {
    const request = host.switchToHttp().getRequest<{ user?: unknown } | undefined>();
    const user = request?.user as { tid?: unknown } | undefined;
    const callerTenant = user && typeof user === 'object' && typeof user.tid === 'string' ? user.tid : undefined;
    const tenantId = callerTenant ?? this.options?.tenantId;
    return { ...(this.options ? { authorityHost: this.options.authorityHost } : {}), ...(tenantId ? { tenantId } : {}) };
  }
}
