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
