import { Reflector } from '@nestjs/core';
import { RequiredAuthContexts } from '../auth/route-metadata.js';
import { assertRequirementsMet, readRouteRequirements } from '../auth/route-requirements.js';
import { InsufficientClaimsError, InsufficientScopeError } from '../errors/obo-errors.js';
import { RequireAuthContext } from './require-auth-context.decorator.js';

const caller = (claims: Record<string, unknown>) => ({ scopes: ['access_as_user'], roles: [], claims, tid: 'tenant-1' });

describe('@RequireAuthContext', () => {
  it('refuses ids that are not c1 to c99', () => {
    for (const bad of [[], ['C1'], ['c0'], ['c100'], ['acr1'], ['']]) expect(() => RequireAuthContext(...bad)).toThrow("@RequireAuthContext needs authentication context ids 'c1' to 'c99'");
  });

  it('puts the ids on the route, the handler winning over the controller', () => {
    @RequireAuthContext('c2')
    class Controller {
      @RequireAuthContext('c1', 'c1')
      handler() {}
      other() {}
    }
    const reflector = new Reflector();
    expect(reflector.get(RequiredAuthContexts, Controller.prototype.handler)).toEqual(['c1']);
    expect(readRouteRequirements(reflector, Controller.prototype.handler, Controller).authContexts).toEqual(['c1']);
    expect(readRouteRequirements(reflector, Controller.prototype.other, Controller).authContexts).toEqual(['c2']);
  });

  it('passes a token whose acrs carries every required id, and challenges for the missing ones', () => {
    const requirements = { isPublic: false, scopes: undefined, roles: undefined, authContexts: ['c1', 'c3'] };
    expect(() => assertRequirementsMet(caller({ acrs: ['c3', 'c1'] }), requirements)).not.toThrow();
    const one = (() => {
      try {
        assertRequirementsMet(caller({ acrs: ['c3'] }), requirements);
      } catch (error) {
        return error as InsufficientClaimsError;
      }
      return undefined;
    })();
    expect(one).toBeInstanceOf(InsufficientClaimsError);
    expect(one).toMatchObject({ code: 'insufficient_claims', tenantId: 'tenant-1', claims: '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}' });
    // Several missing: OpenID Connect's "values" form of an essential claim request (Core 1.0 §5.5.1).
    expect(() => assertRequirementsMet(caller({}), requirements)).toThrow(expect.objectContaining({ claims: '{"access_token":{"acrs":{"essential":true,"values":["c1","c3"]}}}' }));
  });

  it('checks scopes and roles first: a caller without them gets 403, not a step-up', () => {
    const requirements = { isPublic: false, scopes: ['Tasks.Write'], roles: undefined, authContexts: ['c1'] };
    expect(() => assertRequirementsMet(caller({ acrs: [] }), requirements)).toThrow(InsufficientScopeError);
  });
});
