import type { GuardedRequest } from '../auth/request-principal.js';

/** What a parameter decorator needs of a running OboModule's resolver to tell whether a request is its module's. */
export interface ModuleResolver {
  /** This module's guard admitted the request's caller (the principal on it is this module's). */
  admitted(request: GuardedRequest): boolean;
  /** The request reached this module's application (its HTTP server). */
  serves(request: GuardedRequest): boolean;
}

/**
 * The resolvers of the OboModules running in this process, for parameter decorators that answer without a pipe (a
 * pipe costs every request Nest's pipe machinery, several promises, even when the answer is at hand). Nest gives a
 * parameter factory no injector, so the factory finds its module here: the only module running (nearly always), else
 * the one whose guard admitted the caller, else the one whose HTTP server the request reached (behind another guard,
 * such as a passport strategy). Never one that merely remembers the caller's token: with two apps side by side (tests
 * do this), the app with stricter settings must not take the other one's word for a caller.
 */
export class RunningModules<R extends ModuleResolver> {
  private readonly running = new Set<R>();
  /** The resolver when exactly one module runs (the usual case: no search per request). */
  private single: R | undefined;

  constructor(private readonly decorator: string) {}

  add(resolver: R): void {
    this.running.add(resolver);
    this.single = this.running.size === 1 ? resolver : undefined;
  }

  delete(resolver: R): void {
    this.running.delete(resolver);
    this.single = this.running.size === 1 ? [...this.running][0] : undefined;
  }

  /** The resolver for `request`; a TypeError when no module runs, or several do and none knows this caller. */
  for(request: GuardedRequest): R {
    if (this.single !== undefined) return this.single;
    for (const resolver of this.running) if (resolver.admitted(request)) return resolver;
    for (const resolver of this.running) if (resolver.serves(request)) return resolver;
    if (this.running.size === 0) throw new TypeError(`${this.decorator} needs OboModule: import OboModule.forRoot(...) in the application, and start it`);
    throw new TypeError(
      `${this.decorator}: ${this.running.size} OboModules run in this process and none of them admitted this request's caller or serves its application; guard the route with OboAuthGuard so the parameter knows whose module it is`,
    );
  }
}
