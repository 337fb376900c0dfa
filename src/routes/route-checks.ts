import { scopeListProblems, toScopeList } from '../scopes/downstream-scopes.js';
import { enforcesOboRequirements } from '../auth/route-guards.js';
import type { RouteParameter, ScannedRoute } from './route-inventory.js';
import { looksLikeApiName, type ResolvedDownstreamApi } from '../config/downstream-api-options.js';

export interface RouteCheckContext {
  /** An `OboAuthGuard` (or the passport guard) is registered globally (`globalGuard: true`, `APP_GUARD`, `useGlobalGuards`). */
  globallyGuarded: boolean;
  /** The module has a credential, so it can acquire tokens. */
  credentialConfigured: boolean;
  /** The configured downstream APIs (`downstreamApis`) by name. */
  downstreamApis?: ReadonlyMap<string, ResolvedDownstreamApi>;
}

const GUARD_ADVICE = 'add @UseGuards(OboAuthGuard) to the route or its controller, or register it globally with OboModule.forRoot({ ..., globalGuard: true })';

const NO_APIS: ReadonlyMap<string, ResolvedDownstreamApi> = new Map();

/** The downstream API a parameter names: `@DownstreamApi(name)`, or `@DownstreamToken(name)` with one name-like string. */
function apiNameOf(parameter: RouteParameter): string | undefined {
  if (parameter.kind === 'downstream-api') return parameter.options as string;
  const scopes = (parameter.options as { scopes?: unknown } | undefined)?.scopes;
  return parameter.kind === 'downstream-token' && looksLikeApiName(scopes) ? scopes : undefined;
}

const PARAMETER_NAMES = { 'downstream-token': '@DownstreamToken', 'downstream-api': '@DownstreamApi', 'app-token': '@AppToken' } as const;

/** A parameter that acts for the caller (needs a validated user): all but `@AppToken` and an `appToken` API's client. */
function actsForUser(parameter: RouteParameter, apis: ReadonlyMap<string, ResolvedDownstreamApi>): boolean {
  if (parameter.kind === 'app-token') return false;
  if (parameter.kind === 'downstream-api') return apis.get(parameter.options as string)?.appToken !== true;
  return true;
}

/** The token-acquiring parameter's problems: an unknown or misused API name, or scopes Entra would refuse. */
function parameterProblems(parameter: RouteParameter, apis: ReadonlyMap<string, ResolvedDownstreamApi>): string[] {
  const apiName = apiNameOf(parameter);
  if (apiName !== undefined) {
    const api = apis.get(apiName);
    const known = apis.size > 0 ? [...apis.keys()].join(', ') : 'none';
    if (!api) return [`'${apiName}' names no configured downstream API (downstreamApis: ${known}); a scope has a '/' or '.' (api://{app id}/Scope, User.Read)`];
    if (parameter.kind === 'downstream-token' && api.appToken) return [`'${apiName}' is an appToken API, called as this app: use @DownstreamApi('${apiName}'), or @AppToken('${api.scopes[0]}')`];
    return []; // its scopes were checked with the options
  }
  const options = parameter.options as { scopes?: string | string[] } | undefined;
  const scopes = options?.scopes === undefined ? [] : toScopeList(options.scopes);
  return scopeListProblems(scopes, parameter.kind === 'downstream-token' ? 'on-behalf-of' : 'app');
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
    const apis = context.downstreamApis ?? NO_APIS;
    const userParameters = parameters.filter((parameter) => actsForUser(parameter, apis));
    const decorators = [
      ...(requirements.scopes ? ['@RequireScopes'] : []),
      ...(requirements.roles ? ['@RequireRoles'] : []),
      ...(requirements.authContexts ? ['@RequireAuthContext'] : []),
      ...new Set(userParameters.map((parameter) => (parameter.kind === 'current-user' ? '@CurrentUser' : PARAMETER_NAMES[parameter.kind]))),
    ];
    if (route.contradictory) problems.push(`${label}: @Public() and @RequireScopes / @RequireRoles on the same handler or controller contradict each other`);
    if (requirements.isPublic && userParameters.length > 0) {
      problems.push(`${label}: a @Public() route cannot use ${decorators.filter((name) => name === '@DownstreamToken' || name === '@DownstreamApi' || name === '@CurrentUser').join(' and ')}, which act for a validated caller`);
    } else if (!requirements.isPublic && decorators.length > 0 && !context.globallyGuarded && !route.guards.some(enforcesOboRequirements)) {
      problems.push(`${label}: uses ${decorators.join(', ')} but no OboAuthGuard protects it, so it would be reachable without a valid token; ${GUARD_ADVICE}`);
    }
    for (const parameter of parameters) {
      if (parameter.kind === 'current-user') continue;
      const name = PARAMETER_NAMES[parameter.kind];
      if (!context.credentialConfigured) {
        problems.push(`${label}: ${name} acquires tokens, but OboModule has no credential: configure credential ({ clientSecret }, { clientCertificate }, ...)`);
      }
      for (const problem of parameterProblems(parameter, apis)) problems.push(`${label}: ${name}: ${problem}`);
    }
  }
  return problems;
}
