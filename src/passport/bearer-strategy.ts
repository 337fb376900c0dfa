import { bearerTokenFrom } from '../auth/bearer-token.js';
import type { EntraPrincipal } from '../auth/entra-principal.js';
import { InsufficientScopeError, InvalidTokenError, MissingTokenError, OboError } from '../errors/obo-errors.js';
import { toErrorResponse } from '../filters/obo-exception.filter.js';
import { verifierSettingsFromBearerOptions, type BearerStrategyOptions, type StrategyChecks } from './bearer-strategy-options.js';
import { recordOutcome } from './strategy-outcome.js';
import { TenantVerifiers, type BearerAuthenticateOptions } from './tenant-verifiers.js';

type Done = (error: unknown, user?: unknown, info?: unknown) => void;
/** passport-azure-ad's verify callback: `(token, done)`, or `(req, token, done)` with `passReqToCallback`. */
export type BearerVerifyCallback = ((token: Record<string, unknown>, done: Done) => void) | ((request: unknown, token: Record<string, unknown>, done: Done) => void);

interface PassportRequest {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A passport strategy with passport-azure-ad's `BearerStrategy` interface (name `oauth-bearer`, its options, its
 * verify callback receiving the token's claims), validating with this library's verifier. Passport lends
 * `success`, `fail` and `error` to each authentication; no passport import is needed to define it. Each failure is
 * the same `OboError` the guard would throw, passed to passport as its RFC 6750 challenge and status, and kept on the
 * request for `EntraAuthGuard`.
 */
export class BearerStrategy {
  name = 'oauth-bearer';
  private readonly verifiers: TenantVerifiers;
  private readonly checks: StrategyChecks;

  declare success: (user: unknown, info?: unknown) => void;
  declare fail: (challenge?: unknown, status?: number) => void;
  declare error: (error: unknown) => void;

  constructor(
    options: BearerStrategyOptions,
    private readonly verify?: BearerVerifyCallback,
  ) {
    const { settings, ...checks } = verifierSettingsFromBearerOptions(options);
    this.verifiers = new TenantVerifiers(settings);
    this.checks = checks;
  }

  /**
   * Reads the token from the `Authorization` header only, as `OboAuthGuard` does: passport-azure-ad also took
   * `access_token` from a parsed body (RFC 6750 §2.2's form parameter), so one route could authenticate two ways.
   */
  authenticate(request: PassportRequest, options?: BearerAuthenticateOptions): void {
    let verifier;
    try {
      verifier = this.verifiers.for(options?.tenantIdOrName);
    } catch (error) {
      this.error(error);
      return;
    }
    const token = bearerTokenFrom(request.headers.authorization);
    if (!token) {
      this.refuse(request, new MissingTokenError());
      return;
    }
    if (!verifier) {
      this.refuse(request, new InvalidTokenError('tenant', 'Tokens from this tenant are not accepted.'));
      return;
    }
    verifier.verify(token).then(
      (principal) => {
        const refusal = this.strategyRefusal(principal);
        if (refusal) {
          this.refuse(request, refusal);
          return;
        }
        recordOutcome(request, { principal });
        const claims = { ...principal.claims };
        if (!this.verify) {
          this.success(principal);
          return;
        }
        const done: Done = (error, user, info) => {
          if (error) this.error(error);
          else if (!user) this.refuse(request, new InvalidTokenError('rejected', 'The application refused the access token.'));
          else this.success(user, info);
        };
        if (this.checks.passReqToCallback) (this.verify as (request: unknown, token: Record<string, unknown>, done: Done) => void)(request, claims, done);
        else (this.verify as (token: Record<string, unknown>, done: Done) => void)(claims, done);
      },
      (error: unknown) => {
        // A bad token fails authentication (401); the identity provider being down is an error, not a failure.
        if (error instanceof OboError && error.code === 'invalid_token') this.refuse(request, error);
        else {
          if (error instanceof OboError) recordOutcome(request, { failure: error });
          this.error(error);
        }
      },
    );
  }

  /** passport-azure-ad's own checks beyond the shared verifier: `scope`, `issuer`, `allowMultiAudiencesInToken`. */
  private strategyRefusal(principal: EntraPrincipal): OboError | undefined {
    const { requiredScopes, acceptedIssuers, allowMultipleAudiences, clientId } = this.checks;
    const audience = principal.claims.aud;
    if (Array.isArray(audience) && audience.length > 1) {
      if (!allowMultipleAudiences) return new InvalidTokenError('audience', 'The access token names several audiences (allowMultiAudiencesInToken is false).');
      if (principal.claims.azp !== clientId) return new InvalidTokenError('audience', 'A token for several audiences must name this API as its authorized party (azp).');
    }
    if (acceptedIssuers && !acceptedIssuers.includes(String(principal.claims.iss))) return new InvalidTokenError('issuer', 'The access token was not issued by an accepted issuer (issuer).');
    if (requiredScopes.length > 0 && !requiredScopes.some((scope) => principal.scopes.includes(scope))) return new InsufficientScopeError(requiredScopes);
    return undefined;
  }

  /** Fails authentication with the challenge and status the module's error filter would answer. */
  private refuse(request: PassportRequest, failure: OboError): void {
    recordOutcome(request, { failure });
    const { status, headers } = toErrorResponse(failure);
    this.fail(headers['www-authenticate'], status);
  }
}
