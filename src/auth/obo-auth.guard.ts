import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PublicRoute, RequiredRoles, RequiredScopes } from '../decorators/route-metadata.js';
import { InsufficientScopeError, MissingTokenError } from '../errors/obo-errors.js';
import { AccessTokenVerifier } from './access-token-verifier.js';
import { bearerTokenFrom } from './bearer-token.js';
import type { EntraPrincipal } from './entra-principal.js';

interface RouteRequirements {
  isPublic: boolean;
  scopes: readonly string[] | undefined;
  roles: readonly string[] | undefined;
}

/** The request shape the guard needs, common to Express and Fastify. */
export interface GuardedRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: EntraPrincipal;
}

/**
 * Validates the caller's bearer access token and attaches the principal as `request.user`; enforces `@RequireScopes`
 * / `@RequireRoles` (either suffices) and skips `@Public()` routes. Use per route, per controller, or globally.
 * Subclass and override the protected hooks to change where the request or token comes from.
 */
@Injectable()
export class OboAuthGuard implements CanActivate {
  // Route metadata never changes after bootstrap: read it once per controller class and handler.
  private readonly requirements = new WeakMap<object, WeakMap<object, RouteRequirements>>();

  constructor(
    protected readonly reflector: Reflector,
    protected readonly verifier: AccessTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const requirements = this.requirementsOf(context);
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
    const { scopes, roles } = requirements;
    if (!scopes && !roles) return;
    if (scopes?.some((scope) => principal.scopes.includes(scope))) return;
    if (roles?.some((role) => principal.roles.includes(role))) return;
    throw new InsufficientScopeError([...(scopes ?? []), ...(roles ?? [])]);
  }

  private requirementsOf(context: ExecutionContext): RouteRequirements {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byHandler = this.requirements.get(controller);
    if (!byHandler) this.requirements.set(controller, (byHandler = new WeakMap()));
    let requirements = byHandler.get(handler);
    if (!requirements) {
      const targets = [handler, controller];
      requirements = {
        isPublic: this.reflector.getAllAndOverride(PublicRoute, targets) === true,
        scopes: this.reflector.getAllAndOverride(RequiredScopes, targets),
        roles: this.reflector.getAllAndOverride(RequiredRoles, targets),
      };
      byHandler.set(handler, requirements);
    }
    return requirements;
  }
}
