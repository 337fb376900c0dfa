import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { MissingTokenError } from '../errors/obo-errors.js';
import { ENFORCES_OBO_REQUIREMENTS } from './route-guards.js';
import { assertRequirementsMet, RouteRequirementsReader, type RouteRequirements } from './route-requirements.js';
import { AccessTokenVerifier } from './access-token-verifier.js';
import { bearerTokenFrom } from './bearer-token.js';
import type { EntraPrincipal } from './entra-principal.js';
import type { GuardedRequest } from './request-principal.js';

export type { GuardedRequest } from './request-principal.js';

/**
 * Validates the caller's bearer access token and attaches the principal as `request.user`; enforces `@RequireScopes`
 * / `@RequireRoles` (either suffices) and skips `@Public()` routes. Use per route, per controller, or globally.
 * Subclass and override the protected hooks to change where the request or token comes from.
 */
@Injectable()
export class OboAuthGuard implements CanActivate {
  /** Inherited by subclasses, so the bootstrap route check counts them as guards too. */
  static readonly [ENFORCES_OBO_REQUIREMENTS] = true;
  private readonly requirements: RouteRequirementsReader;

  constructor(
    protected readonly reflector: Reflector,
    protected readonly verifier: AccessTokenVerifier,
  ) {
    this.requirements = new RouteRequirementsReader(reflector);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const requirements = this.requirements.of(context.getHandler(), context.getClass());
    if (requirements.isPublic) return true;
    const request = this.getRequest(context);
    const token = this.extractToken(request);
    if (!token) throw new MissingTokenError();
    const principal = await this.verifier.verify(token);
    request.user = principal;
    this.authorize(principal, requirements);
    return true;
  }

  protected getRequest(context: ExecutionContext): GuardedRequest {
    return context.switchToHttp().getRequest<GuardedRequest>();
  }

  protected extractToken(request: GuardedRequest): string | undefined {
    return bearerTokenFrom(request.headers.authorization);
  }

  /** Either a required scope or a required role suffices (Microsoft.Identity.Web's RequiredScopeOrAppPermission). */
  protected authorize(principal: EntraPrincipal, requirements: RouteRequirements): void {
    assertRequirementsMet(principal, requirements);
  }
}
