import { OboAuthGuard } from '../auth/obo-auth.guard.js';
import { routeProblems, type RouteCheckContext } from './route-checks.js';
import type { ScannedRoute } from './route-inventory.js';

const CONTEXT: RouteCheckContext = { globallyGuarded: false, credentialConfigured: true };

function route(overrides: Partial<ScannedRoute> = {}): ScannedRoute {
  return { label: 'GET /x (X.x)', requirements: { isPublic: false, scopes: undefined, roles: undefined }, contradictory: false, guards: [], parameters: [], ...overrides };
}

describe('routeProblems', () => {
  it('leaves alone a route that asks nothing of its caller, guarded or not', () => {
    expect(routeProblems([route()], CONTEXT)).toEqual([]);
    expect(routeProblems([route({ parameters: [{ kind: 'app-token', options: { scopes: 'api://a/.default' } }] })], CONTEXT)).toEqual([]);
  });

  it('names an unguarded route by every decorator that needs a caller, once each', () => {
    const problems = routeProblems(
      [
        route({
          requirements: { isPublic: false, scopes: ['a'], roles: ['R'] },
          parameters: [
            { kind: 'current-user', options: undefined },
            { kind: 'current-user', options: undefined },
            { kind: 'downstream-token', options: { scopes: 'api://a/Read' } },
          ],
        }),
      ],
      CONTEXT,
    );
    expect(problems).toEqual([expect.stringMatching(/^GET \/x \(X\.x\): uses @RequireScopes, @RequireRoles, @CurrentUser, @DownstreamToken but no OboAuthGuard/)]);
  });

  it('counts OboAuthGuard classes, instances and subclasses on the route, and a global guard', () => {
    class Subclass extends OboAuthGuard {}
    const scoped = { requirements: { isPublic: false, scopes: ['a'], roles: undefined } };
    for (const guard of [OboAuthGuard, Subclass, Object.create(Subclass.prototype) as object]) expect(routeProblems([route({ ...scoped, guards: [guard] })], CONTEXT)).toEqual([]);
    expect(routeProblems([route({ ...scoped, guards: [class Other {}] })], CONTEXT)).toHaveLength(1);
    expect(routeProblems([route(scoped)], { ...CONTEXT, globallyGuarded: true })).toEqual([]);
  });

  it('reports token acquisition without a credential, and every broken scope list, beside the guard problem', () => {
    const problems = routeProblems(
      [route({ guards: [OboAuthGuard], parameters: [{ kind: 'downstream-token', options: { scopes: ['api://a/Read', 'openid'] } }, { kind: 'app-token', options: { scopes: ['api://a/.default', 'api://b/.default'] } }] })],
      { ...CONTEXT, credentialConfigured: false },
    );
    expect(problems).toEqual([
      expect.stringContaining('@DownstreamToken acquires tokens, but OboModule has no credential'),
      expect.stringContaining('@DownstreamToken: openid: OpenID Connect scopes'),
      expect.stringContaining('@AppToken acquires tokens, but OboModule has no credential'),
      expect.stringContaining('@AppToken: scopes of api://a and api://b'),
      expect.stringContaining("@AppToken: client credentials take exactly one '{resource}/.default' scope"),
    ]);
  });

  it('refuses @Public() with a user parameter, and contradictions, without asking for a guard', () => {
    const problems = routeProblems([route({ requirements: { isPublic: true, scopes: undefined, roles: undefined }, contradictory: true, parameters: [{ kind: 'current-user', options: undefined }] })], CONTEXT);
    expect(problems).toEqual([expect.stringContaining('contradict each other'), expect.stringContaining('a @Public() route cannot use @CurrentUser')]);
  });
});

describe('routeProblems for named downstream APIs', () => {
  const apis = new Map([
    ['profile', { name: 'profile', baseUrl: 'https://profile.example.com/', scopes: ['api://profile/Profile.Read'], scopeString: 'api://profile/Profile.Read', appToken: false }],
    ['reports', { name: 'reports', baseUrl: 'https://reports.example.com/', scopes: ['api://reports/.default'], scopeString: 'api://reports/.default', appToken: true }],
  ]);
  const context: RouteCheckContext = { ...CONTEXT, downstreamApis: apis };
  const guarded = { guards: [OboAuthGuard] };

  it('accepts configured names on @DownstreamToken and @DownstreamApi, and scopes as before', () => {
    const parameters = [
      { kind: 'downstream-token' as const, options: { scopes: 'profile' } },
      { kind: 'downstream-token' as const, options: { scopes: 'api://other/Read' } },
      { kind: 'downstream-api' as const, options: 'profile' },
      { kind: 'downstream-api' as const, options: 'reports' },
    ];
    expect(routeProblems([route({ ...guarded, parameters })], context)).toEqual([]);
  });

  it('stops the start on an unknown name, listing the configured ones, whichever decorator names it', () => {
    const parameters = [
      { kind: 'downstream-token' as const, options: { scopes: 'profil' } },
      { kind: 'downstream-api' as const, options: 'grpah' },
    ];
    expect(routeProblems([route({ ...guarded, parameters })], context)).toEqual([
      "GET /x (X.x): @DownstreamToken: 'profil' names no configured downstream API (downstreamApis: profile, reports); a scope has a '/' or '.' (api://{app id}/Scope, User.Read)",
      "GET /x (X.x): @DownstreamApi: 'grpah' names no configured downstream API (downstreamApis: profile, reports); a scope has a '/' or '.' (api://{app id}/Scope, User.Read)",
    ]);
    expect(routeProblems([route({ ...guarded, parameters: [parameters[0]!] })], CONTEXT)).toEqual([expect.stringContaining('(downstreamApis: none)')]);
  });

  it('refuses an appToken API as a user token, and lets its client go without a guard (it acts as the app)', () => {
    expect(routeProblems([route({ ...guarded, parameters: [{ kind: 'downstream-token', options: { scopes: 'reports' } }] })], context)).toEqual([
      "GET /x (X.x): @DownstreamToken: 'reports' is an appToken API, called as this app: use @DownstreamApi('reports'), or @AppToken('api://reports/.default')",
    ]);
    expect(routeProblems([route({ parameters: [{ kind: 'downstream-api', options: 'reports' }] })], context)).toEqual([]);
    expect(routeProblems([route({ parameters: [{ kind: 'downstream-api', options: 'profile' }] })], context)).toEqual([expect.stringContaining('uses @DownstreamApi but no OboAuthGuard protects it')]);
  });

  it('needs a credential for a named API, and counts @RequireAuthContext as asking for a caller', () => {
    expect(routeProblems([route({ ...guarded, parameters: [{ kind: 'downstream-api', options: 'profile' }] })], { ...context, credentialConfigured: false })).toEqual([
      expect.stringContaining('@DownstreamApi acquires tokens, but OboModule has no credential'),
    ]);
    const stepUp = route({ requirements: { isPublic: false, scopes: undefined, roles: undefined, authContexts: ['c1'] } });
    expect(routeProblems([stepUp], context)).toEqual([expect.stringContaining('uses @RequireAuthContext but no OboAuthGuard protects it')]);
  });
});
