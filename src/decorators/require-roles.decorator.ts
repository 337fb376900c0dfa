import { RequiredRoles } from '../auth/route-metadata.js';

/**
 * The caller's token must carry at least one of these app roles (`roles`): application permissions of a daemon, or
 * roles assigned to a user. Together with `@RequireScopes`, either suffices.
 */
export const RequireRoles = (...roles: string[]): MethodDecorator & ClassDecorator => {
  if (roles.length === 0 || roles.some((role) => typeof role !== 'string' || role.trim() === '')) {
    throw new TypeError('@RequireRoles needs at least one non-empty role name');
  }
  return RequiredRoles(Object.freeze([...roles]));
};
