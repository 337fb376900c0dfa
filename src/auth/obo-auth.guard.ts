import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { MissingTokenError } from '../errors/obo-errors.js';
import { countRejection } from '../observability/tallies.js';
import { ENFORCES_OBO_REQUIREMENTS } from './route-guards.js';
import { assertRequirementsMet, RouteRequirementsReader, type RouteRequirements } from './route-requirements.js';
import { AccessTokenVerifier } from './access-token-verifier.js';
import { bearerCredentialsOf, isB64Token } from './bearer-token.js';
import type { EntraPrincipal } from './entra-principal.js';
import type { GuardedRequest } from './request-principal.js';
import { transportRequestOf } from './transport-request.js';

export type { GuardedRequest } from './request-principal.js';

/**
 * Validates the caller's bearer access token (over HTTP, GraphQL, WebSockets and microservices alike) and attaches the
 * principal as `request.user`; enforces `@RequireScopes`
 * / `@RequireRoles` (either suffices) and skips `@Public()` routes. Use per route, per controller, or globally.
 * Subclass and override the protected hooks to change where the request or token comes from.
 */
@Injectable()
export class OboAuthGuard implements CanActivate {
  /** Inherited by subclasses, so the bootstrap route check counts them as guards too. */
  static readonly [ENFORCES_OBO_REQUIREMENTS] = true;
  private readonly requirements: RouteRequirementsReader;
  /** The token comes from the `Authorization` header (`extractToken` not overridden): the hit path may compare the header. */
  private readonly readsAuthorizationHeader: boolean;

  constructor(
    protected readonly reflector: Reflector,
    protected readonly verifier: AccessTokenVerifier,
  ) {
    this.requirements = new RouteRequirementsReader(reflector);
    this.readsAuthorizationHeader = this.extractToken === OboAuthGuard.prototype.extractToken;
  }

  /**
   * `true` at once for a token it validated before (the hit path: no promise, no hashing); a promise when the token
   * must be validated. A refusal is always a rejected promise, as from an async method.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    try {
      const requirements = this.requirements.of(context.getHandler(), context.getClass());
      if (requirements.isPublic) return true;
      const request = this.getRequest(context);
      if (this.readsAuthorizationHeader) {
        const header = request.headers.authorization;
        const remembered = typeof header === 'string' ? this.verifier.rememberedPrincipalOfHeader(header) : undefined;
        if (remembered) return this.admit(request, remembered, requirements);
      }
      const token = this.extractToken(request);
      if (!token) throw missingToken();
      const remembered = this.verifier.rememberedPrincipal(token);
      if (remembered) return this.admit(request, remembered, requirements);
      // Checked here, after the lookup: a token validated before is a b64token already, and scanning 1.3 KB per request
      // costs more than everything else on the hit path.
      if (!isB64Token(token)) throw missingToken();
      return this.verifier.verify(token).then((principal) => this.admit(request, principal, requirements));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  private admit(request: GuardedRequest, principal: EntraPrincipal, requirements: RouteRequirements): true {
    request.user = principal;
    this.authorize(principal, requirements);
    return true;
  }

  /**
   * The request of any transport (`auth/transport-request.ts`): HTTP's own, GraphQL's `req`, a WebSocket connection's
   * or an RPC message's. Override to read another transport, or another place.
   */
  protected getRequest(context: ExecutionContext): GuardedRequest {
    return transportRequestOf(context);
  }

  /**
   * Where the token comes from: by default what follows `Bearer ` in the `Authorization` header. The guard then
   * requires it to be an RFC 6750 `b64token` (unless it is a token validated before), whatever this returns.
   */
  protected extractToken(request: GuardedRequest): string | undefined {
    return bearerCredentialsOf(request.headers.authorization);
  }

  /** Either a required scope or a required role suffices (Microsoft.Identity.Web's RequiredScopeOrAppPermission). */
  protected authorize(principal: EntraPrincipal, requirements: RouteRequirements): void {
    assertRequirementsMet(principal, requirements);
  }
}

/** A guarded route called without a bearer token, counted as a rejection (`missing_token`) like an invalid token. */
function missingToken(): MissingTokenError {
  countRejection('missing_token');
  return new MissingTokenError();
}
