import { scopeListProblems, toScopeList } from '../scopes/downstream-scopes.js';
import { enforcesOboRequirements } from '../auth/route-guards.js';
import type { RouteParameter, ScannedRoute } from './route-inventory.js';

export interface RouteCheckContext {
  /** An `OboAuthGuard` (or the passport guard) is registered globally (`globalGuard: true`, `APP_GUARD`, `useGlobalGuards`). */
  globallyGuarded: boolean;
  /** The module has a credential, so it can acquire tokens. */
  credentialConfigured: boolean;
}

const GUARD_ADVICE = 'add @UseGuards(OboAuthGuard) to the route or its controller, or register it globally with OboModule.forRoot({ ..., globalGuard: true })';

function scopesOf(parameter: RouteParameter): string[] {
  const options = parameter.options as { scopes?: string | string[] } | undefined;
  return options?.scopes === undefined ? [] : toScopeList(options.scopes);
}

/**
 * Mistakes that would otherwise surface per request (or never): a route whose decorators ask for a validated caller
 * but that no guard protects, contradictory `@Public()`, token acquisition without a credential, and scope lists Entra
 * would refuse. Returns every problem, each naming its route.
 */
export function routeProblems(routes: readonly ScannedRoute[], context: RouteCheckContext): string[] {
  const problems: string[] = [];
  for (const route of routes) {
    const { requirements, parameters, label } = route;
    const userParameters = parameters.filter((parameter) => parameter.kind !== 'app-token');
    const decorators = [
      ...(requirements.scopes ? ['@RequireScopes'] : []),
      ...(requirements.roles ? ['@RequireRoles'] : []),
      ...new Set(userParameters.map((parameter) => (parameter.kind === 'downstream-token' ? '@DownstreamToken' : '@CurrentUser'))),
    ];
    if (route.contradictory) problems.push(`${label}: @Public() and @RequireScopes / @RequireRoles on the same handler or controller contradict each other`);
    if (requirements.isPublic && userParameters.length > 0) {
      problems.push(`${label}: a @Public() route cannot use ${decorators.filter((name) => name === '@DownstreamToken' || name === '@CurrentUser').join(' and ')}, which act for a validated caller`);
    } else if (!requirements.isPublic && decorators.length > 0 && !context.globallyGuarded && !route.guards.some(enforcesOboRequirements)) {
      problems.push(`${label}: uses ${decorators.join(', ')} but no OboAuthGuard protects it, so it would be reachable without a valid token; ${GUARD_ADVICE}`);
    }
    for (const parameter of parameters) {
      if (parameter.kind === 'current-user') continue;
      const name = parameter.kind === 'downstream-token' ? '@DownstreamToken' : '@AppToken';
      if (!context.credentialConfigured) {
        problems.push(`${label}: ${name} acquires tokens, but OboModule has no credential: configure credential ({ clientSecret }, { clientCertificate }, ...)`);
      }
      for (const problem of scopeListProblems(scopesOf(parameter), parameter.kind === 'downstream-token' ? 'on-behalf-of' : 'app')) problems.push(`${label}: ${name}: ${problem}`);
    }
  }
  return problems;
}
