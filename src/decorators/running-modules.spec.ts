import type { GuardedRequest } from '../auth/request-principal.js';
import { RunningModules, type ModuleResolver } from './running-modules.js';

/** A resolver that admitted the callers whose bearer token it was given, and serves the server it names. */
function resolver(admittedToken: string, server = `server of ${admittedToken}`): ModuleResolver & { server: string } {
  return {
    server,
    admitted: (request: GuardedRequest) => request.headers.authorization === admittedToken,
    serves: (request: GuardedRequest) => (request as { server?: string }).server === server,
  };
}
const requestOf = (authorization: string, server?: string): GuardedRequest => ({ headers: { authorization }, ...(server ? { server } : {}) }) as GuardedRequest;

describe('RunningModules', () => {
  it('answers every request with the only running module, whoever the caller is', () => {
    const modules = new RunningModules<ReturnType<typeof resolver>>('@DownstreamToken');
    const only = resolver('a');
    modules.add(only);
    expect(modules.for(requestOf('someone else'))).toBe(only);
  });

  it('with several running, picks the module that validated the caller', () => {
    const modules = new RunningModules<ReturnType<typeof resolver>>('@DownstreamToken');
    const first = resolver('a');
    const second = resolver('b');
    modules.add(first);
    modules.add(second);
    expect(modules.for(requestOf('b'))).toBe(second);
    expect(modules.for(requestOf('a'))).toBe(first);
  });

  it("with several running and a caller none admitted (another guard's), picks the module whose server the request reached", () => {
    const modules = new RunningModules<ReturnType<typeof resolver>>('@DownstreamToken');
    const first = resolver('a');
    const second = resolver('b');
    modules.add(first);
    modules.add(second);
    expect(modules.for(requestOf('c', second.server))).toBe(second);
    // The admitting module wins over the server: its guard ran on this very request.
    expect(modules.for(requestOf('a', second.server))).toBe(first);
  });

  it('refuses to guess between several modules when none admitted the caller or serves the request, and says what to do', () => {
    const modules = new RunningModules<ReturnType<typeof resolver>>('@DownstreamToken');
    modules.add(resolver('a'));
    modules.add(resolver('b'));
    expect(() => modules.for(requestOf('c', 'elsewhere'))).toThrow(
      new TypeError("@DownstreamToken: 2 OboModules run in this process and none of them admitted this request's caller or serves its application; guard the route with OboAuthGuard so the parameter knows whose module it is"),
    );
  });

  it('goes back to the remaining module when one of two stops, and says when none runs', () => {
    const modules = new RunningModules<ReturnType<typeof resolver>>('@DownstreamToken');
    const first = resolver('a');
    const second = resolver('b');
    modules.add(first);
    modules.add(second);
    modules.delete(first);
    expect(modules.for(requestOf('anyone'))).toBe(second);
    modules.delete(second);
    expect(() => modules.for(requestOf('anyone'))).toThrow(/needs OboModule: import OboModule.forRoot/);
  });
});
