import { Injectable, RequestMethod } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { parameterKindOf, type OboParameterKind } from './parameter-kind.js';
import { PublicRoute, RequiredRoles, RequiredScopes } from '../auth/route-metadata.js';
import { readRouteRequirements, type RouteRequirements } from '../auth/route-requirements.js';

/** One use of this library's parameter decorators on a route, with the options it was given. */
export interface RouteParameter {
  kind: OboParameterKind;
  options: unknown;
}

/** An HTTP route as the bootstrap checks see it. */
export interface ScannedRoute {
  /** `GET /me (MeController.profile)`: how problems name the route. */
  label: string;
  requirements: RouteRequirements;
  /** Whether `@Public()` and `@RequireScopes` / `@RequireRoles` sit on the same handler or controller. */
  contradictory: boolean;
  /** Guards of the controller and the handler (`@UseGuards`), as classes or instances. */
  guards: readonly unknown[];
  parameters: readonly RouteParameter[];
}

interface RouteArgument {
  factory?: unknown;
  data?: unknown;
}

function joinPath(...parts: unknown[]): string {
  const segments = parts.flatMap((part) => (Array.isArray(part) ? part.slice(0, 1) : [part])).filter((part): part is string => typeof part === 'string' && part !== '' && part !== '/');
  return `/${segments.map((segment) => segment.replace(/^\/+|\/+$/g, '')).join('/')}`;
}

/**
 * The application's HTTP routes, found once at bootstrap through Nest's `DiscoveryService` and `MetadataScanner`: their
 * requirements, guards and this library's parameters. The bootstrap checks (guards, credentials, scope lists) read it.
 */
@Injectable()
export class RouteInventory {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  routes(): ScannedRoute[] {
    const routes: ScannedRoute[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      // The class, not the instance: request-scoped controllers have no instance at bootstrap.
      const controller = wrapper.metatype;
      if (typeof controller !== 'function') continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        routes.push(this.describe(controller, handler, name));
      }
    }
    return routes;
  }

  private describe(controller: object & { name: string }, handler: object, name: string): ScannedRoute {
    const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number] ?? 'GET';
    const label = `${method} ${joinPath(Reflect.getMetadata(PATH_METADATA, controller), Reflect.getMetadata(PATH_METADATA, handler))} (${controller.name}.${name})`;
    const arguments_ = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<string, RouteArgument>;
    const parameters = Object.values(arguments_).flatMap((argument) => {
      const kind = parameterKindOf(argument.factory);
      return kind ? [{ kind, options: argument.data }] : [];
    });
    const demands = (target: object) => this.reflector.get(RequiredScopes, target as never) !== undefined || this.reflector.get(RequiredRoles, target as never) !== undefined;
    const isPublicOn = (target: object) => this.reflector.get(PublicRoute, target as never) === true;
    return {
      label,
      requirements: readRouteRequirements(this.reflector, handler, controller),
      contradictory: (isPublicOn(handler) && demands(handler)) || (isPublicOn(controller) && demands(controller)),
      guards: [...((Reflect.getMetadata(GUARDS_METADATA, controller) as unknown[]) ?? []), ...((Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[]) ?? [])],
      parameters,
    };
  }
}
