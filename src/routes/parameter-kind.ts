/** Which of this library's parameter decorators made a route argument, for the bootstrap route checks. */
export type OboParameterKind = 'downstream-token' | 'downstream-api' | 'app-token' | 'current-user';

const PARAMETER_KIND = Symbol('nestjs-entra-obo.parameterKind');

/** Tags the factory given to `createParamDecorator`, which Nest keeps in the route's argument metadata. */
export function markParameterFactory<F extends object>(factory: F, kind: OboParameterKind): F {
  Object.defineProperty(factory, PARAMETER_KIND, { value: kind, enumerable: false });
  return factory;
}

export function parameterKindOf(factory: unknown): OboParameterKind | undefined {
  return typeof factory === 'function' ? (factory as unknown as Record<symbol, OboParameterKind | undefined>)[PARAMETER_KIND] : undefined;
}
