import { RequiredScopes } from '../auth/route-metadata.js';

/**
 * The caller's token must carry at least one of these delegated scopes (`scp`). Together with `@RequireRoles` on the
 * same route, either a listed scope or a listed role suffices.
 */
export const RequireScopes = (...scopes: string[]): MethodDecorator & ClassDecorator => {
  if (scopes.length === 0 || scopes.some((scope) => typeof scope !== 'string' || scope.trim() === '')) {
    throw new TypeError('@RequireScopes needs at least one non-empty scope name');
  }
  return RequiredScopes(Object.freeze([...scopes]));
};
