/**
 * Marks a guard class that validates the caller's token and enforces `@RequireScopes` / `@RequireRoles`:
 * `OboAuthGuard` and its subclasses, and the passport guard of `nestjs-entra-obo/passport`. The bootstrap route check
 * counts a route as guarded only behind such a guard.
 */
export const ENFORCES_OBO_REQUIREMENTS = Symbol.for('nestjs-entra-obo.enforcesRouteRequirements');

/** Whether `guard` (a guard class, as `@UseGuards(Class)` stores it, or an instance) is one of those guards. */
export function enforcesOboRequirements(guard: unknown): boolean {
  const type = typeof guard === 'function' ? guard : typeof guard === 'object' && guard !== null ? guard.constructor : undefined;
  return typeof type === 'function' && (type as unknown as Record<symbol, unknown>)[ENFORCES_OBO_REQUIREMENTS] === true;
}
