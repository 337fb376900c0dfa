// The one file that imports @nestjs/passport.
import { Injectable, type CanActivate, type ExecutionContext, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { InvalidTokenError, MissingTokenError } from '../errors/obo-errors.js';
import { ENFORCES_OBO_REQUIREMENTS } from '../auth/route-guards.js';
import { assertRequirementsMet, RouteRequirementsReader } from '../auth/route-requirements.js';
import { BearerStrategy } from './bearer-strategy.js';
import { outcomeOf } from './strategy-outcome.js';

/**
 * The `@nestjs/passport` strategy, registered as `entra-bearer` (`EntraAuthGuard()`, or `AuthGuard('entra-bearer')`).
 * Subclass it (or construct it), pass passport-azure-ad's options to `super(...)`, and add it to a module's providers;
 * `validate(claims)` decides what becomes `request.user` (the token's claims by default).
 */
export class EntraBearerStrategy extends PassportStrategy(BearerStrategy, 'entra-bearer') {
  validate(claims: Record<string, unknown>): unknown {
    return claims;
  }
}

const guards = new Map<string, Type<CanActivate>>();

/**
 * `AuthGuard(strategy)` for this package's strategies, answering as `OboAuthGuard` does: failures are the module's
 * `OboError`s (RFC 6750 challenges through its exception filter, 403 `insufficient_scope` for a missing scope, 503 when
 * Entra cannot be reached) instead of `@nestjs/passport`'s bare 401, and the route's `@RequireScopes` / `@RequireRoles`
 * are enforced, so the bootstrap route check counts its routes as guarded. `strategy` defaults to `entra-bearer`; use
 * `EntraAuthGuard('oauth-bearer')` for a strategy registered under passport-azure-ad's name.
 */
export function EntraAuthGuard(strategy = 'entra-bearer'): Type<CanActivate> {
  let guard = guards.get(strategy);
  if (guard) return guard;

  @Injectable()
  class EntraPassportGuard extends AuthGuard(strategy) {
    static readonly [ENFORCES_OBO_REQUIREMENTS] = true;
    private readonly requirements: RouteRequirementsReader;

    constructor(reflector: Reflector) {
      super();
      this.requirements = new RouteRequirementsReader(reflector);
    }

    override async canActivate(context: ExecutionContext): Promise<boolean> {
      const requirements = this.requirements.of(context.getHandler(), context.getClass());
      if (requirements.isPublic) return true;
      await super.canActivate(context);
      const outcome = outcomeOf(context.switchToHttp().getRequest<object>());
      if (outcome && 'principal' in outcome) assertRequirementsMet(outcome.principal, requirements);
      return true;
    }

    override handleRequest<TUser>(error: unknown, user: TUser, _info: unknown, context: ExecutionContext, status?: unknown): TUser {
      if (error) throw error;
      if (user) return user;
      const outcome = outcomeOf(context.switchToHttp().getRequest<object>());
      if (outcome && 'failure' in outcome) throw outcome.failure;
      // Another strategy's failure: say only what its status says.
      throw status === 401 || status === undefined ? new MissingTokenError() : new InvalidTokenError('rejected', 'The access token was refused.');
    }
  }
  guard = EntraPassportGuard;
  guards.set(strategy, guard);
  return guard;
}
