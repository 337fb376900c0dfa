import type { Reflector } from '@nestjs/core';
import type { EntraPrincipal } from './entra-principal.js';
import { PublicRoute, RequiredRoles, RequiredScopes } from './route-metadata.js';
import { InsufficientScopeError } from '../errors/obo-errors.js';

/** What a route asks of its caller, read from `@Public`, `@RequireScopes` and `@RequireRoles`. */
export interface RouteRequirements {
  isPublic: boolean;
  scopes: readonly string[] | undefined;
  roles: readonly string[] | undefined;
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
export function assertRequirementsMet(principal: Pick<EntraPrincipal, 'scopes' | 'roles'>, requirements: RouteRequirements): void {
  const { scopes, roles } = requirements;
  if (!scopes && !roles) return;
  if (scopes?.some((scope) => principal.scopes.includes(scope))) return;
  if (roles?.some((role) => principal.roles.includes(role))) return;
  throw new InsufficientScopeError([...(scopes ?? []), ...(roles ?? [])]);
}
