import { RequiredAuthContexts } from '../auth/route-metadata.js';

/**
 * Authentication context ids are `c` and a number: Graph's authenticationContextClassReference documents `c1` through
 * `c25` as the allowed ids, the `acrs` values of access tokens
 * (https://learn.microsoft.com/graph/api/resources/authenticationcontextclassreference). Up to `c99` is accepted, so a
 * raised limit is not refused; anything else is a typo.
 */
const AUTH_CONTEXT_ID = /^c([1-9]|[1-9][0-9])$/;

/**
 * The caller's token must carry each of these authentication contexts in its `acrs` claim (step-up: MFA, a compliant
 * device, as the tenant's Conditional Access policy for the context says). A token without one gets 401
 * `insufficient_claims` with the claims to sign in again with: `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`.
 */
export const RequireAuthContext = (...ids: string[]): MethodDecorator & ClassDecorator => {
  if (ids.length === 0 || ids.some((id) => typeof id !== 'string' || !AUTH_CONTEXT_ID.test(id))) {
    throw new TypeError("@RequireAuthContext needs authentication context ids 'c1' to 'c99'");
  }
  return RequiredAuthContexts(Object.freeze([...new Set(ids)]));
};
