import type { Reflector } from '@nestjs/core';
import type { EntraPrincipal } from './entra-principal.js';
import { PublicRoute, RequiredAuthContexts, RequiredRoles, RequiredScopes } from './route-metadata.js';
import { InsufficientClaimsError, InsufficientScopeError } from '../errors/obo-errors.js';

/** What a route asks of its caller, read from `@Public`, `@RequireScopes` and `@RequireRoles`. */
export interface RouteRequirements {
  isPublic: boolean;
  scopes: readonly string[] | undefined;
  roles: readonly string[] | undefined;
  /** Authentication contexts the token's `acrs` must all carry (`@RequireAuthContext`); the handler's win. */
  authContexts?: readonly string[] | undefined;
}

/**
 * A route's requirements, where the handler's own decorators win over its controller's: a `@Public()` controller
 * does not open a handler that demands a scope or a role, and a `@Public()` handler is open in a guarded controller.
 */
export function readRouteRequirements(reflector: Reflector, handler: object, controller: object): RouteRequirements {
  const handlerPublic = reflector.get(PublicRoute, handler as never) === true;
  const handlerScopes = reflector.get(RequiredScopes, handler as never);
  const handlerRoles = reflector.get(RequiredRoles, handler as never);
  const handlerDemands = handlerScopes !== undefined || handlerRoles !== undefined;
  const controllerPublic = reflector.get(PublicRoute, controller as never) === true;
  return {
    isPublic: handlerPublic || (controllerPublic && !handlerDemands),
    scopes: handlerScopes ?? reflector.get(RequiredScopes, controller as never),
    roles: handlerRoles ?? reflector.get(RequiredRoles, controller as never),
    authContexts: reflector.get(RequiredAuthContexts, handler as never) ?? reflector.get(RequiredAuthContexts, controller as never),
  };
}

/**
 * Reads each route's requirements once: route metadata never changes after bootstrap, and a guard runs on every
 * request.
 */
export class RouteRequirementsReader {
  private readonly byController = new WeakMap<object, WeakMap<object, RouteRequirements>>();

  constructor(private readonly reflector: Reflector) {}

  of(handler: object, controller: object): RouteRequirements {
    let byHandler = this.byController.get(controller);
    if (!byHandler) this.byController.set(controller, (byHandler = new WeakMap()));
    let requirements = byHandler.get(handler);
    if (!requirements) byHandler.set(handler, (requirements = readRouteRequirements(this.reflector, handler, controller)));
    return requirements;
  }
}

/** Either a required scope or a required role suffices (Microsoft.Identity.Web's RequiredScopeOrAppPermission). */
export function assertRequirementsMet(principal: Pick<EntraPrincipal, 'scopes' | 'roles'> & Partial<Pick<EntraPrincipal, 'claims' | 'tid'>>, requirements: RouteRequirements): void {
  const { scopes, roles, authContexts } = requirements;
  if (scopes || roles) {
    const met = scopes?.some((scope) => principal.scopes.includes(scope)) || roles?.some((role) => principal.roles.includes(role));
    if (!met) throw new InsufficientScopeError([...(scopes ?? []), ...(roles ?? [])]);
  }
  if (authContexts) assertAuthContexts(principal, authContexts);
}

/** Our own claims challenge for a route's authentication context: it names the route's requirement, not Entra's answer. */
class AuthenticationContextRequiredError extends InsufficientClaimsError {
  constructor(claims: string, tenantId: string | undefined) {
    super(claims, {}, tenantId ? { tenantId } : {});
    this.message = 'This operation requires an authentication context the token does not carry; sign in again with the claims.';
    this.name = 'InsufficientClaimsError';
  }
}

/**
 * The token's `acrs` must carry every required authentication context; otherwise 401 `insufficient_claims` with the
 * claims request a client hands to Entra (`{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`, as in
 * https://learn.microsoft.com/entra/identity-platform/developer-guide-conditional-access-authentication-context).
 */
function assertAuthContexts(principal: Partial<Pick<EntraPrincipal, 'claims' | 'tid'>>, required: readonly string[]): void {
  const acrs = principal.claims?.acrs;
  const carried = Array.isArray(acrs) ? acrs : [];
  const missing = required.filter((id) => !carried.includes(id));
  if (missing.length === 0) return;
  const acrsRequest = missing.length === 1 ? { essential: true, value: missing[0] } : { essential: true, values: missing };
  throw new AuthenticationContextRequiredError(JSON.stringify({ access_token: { acrs: acrsRequest } }), principal.tid);
}
