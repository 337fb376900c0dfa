import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import type { ResolvedOboOptions } from '../config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from '../config/tokens.js';
import { OboConfigurationError } from '../errors/obo-errors.js';
import { routeProblems } from './route-checks.js';
import { enforcesOboRequirements } from '../auth/route-guards.js';
import { RouteInventory } from './route-inventory.js';

/**
 * Runs the route checks when the application initialises (`app.init()` / `listen()`), so a route that would be open
 * without a token, or a token request Entra would refuse, stops the start instead of failing (or passing) per request.
 */
@Injectable()
export class RouteCheck implements OnModuleInit {
  constructor(
    @Inject(OBO_RESOLVED_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly inventory: RouteInventory,
    private readonly applicationConfig: ApplicationConfig,
  ) {}

  onModuleInit(): void {
    // Global guards from APP_GUARD and useGlobalGuards are registered by the time modules initialise.
    const globalGuards = [...this.applicationConfig.getGlobalGuards(), ...this.applicationConfig.getGlobalRequestGuards().map((wrapper) => wrapper.metatype)];
    const problems = routeProblems(this.inventory.routes(), {
      globallyGuarded: globalGuards.some(enforcesOboRequirements),
      credentialConfigured: this.options.credential !== undefined,
      downstreamApis: this.options.downstreamApis,
    });
    if (problems.length > 0) throw new OboConfigurationError(problems, 'OboModule routes');
  }
}
