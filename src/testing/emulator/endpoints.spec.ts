import { EMULATOR_ENDPOINTS, FAULTABLE_ENDPOINTS, findEndpoint } from './endpoints.js';
import { FaultQueue } from './faults.js';

const segmentsOf = (path: string) => path.split('/').filter(Boolean);

describe('the endpoint table', () => {
  it('names each endpoint once', () => {
    const names = EMULATOR_ENDPOINTS.map((row) => row.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each([
    ['GET', '/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration', 'discovery'],
    ['GET', '/common/.well-known/openid-configuration', 'discovery'],
    ['GET', '/common/discovery/instance', 'instance-discovery'],
    ['GET', '/organizations/discovery/v2.0/keys', 'jwks'],
    ['GET', '/common/discovery/keys', 'jwks'],
    ['GET', '/common/oauth2/v2.0/authorize', 'authorize'],
    ['POST', '/common/oauth2/authorize', 'authorize'],
    ['POST', '/common/oauth2/v2.0/token', 'token'],
    ['POST', '/common/oauth2/token', 'token'],
    ['GET', '/common/oauth2/v2.0/logout', 'logout'],
    ['GET', '/graph/v1.0/me', 'graph'],
    ['POST', '/graph/oidc/userinfo', 'graph'],
    ['GET', '/health', 'health'],
    ['GET', '/', 'page'],
  ])('%s %s is answered by %s', (method, path, name) => {
    expect(findEndpoint(method, segmentsOf(path))?.name).toBe(name);
  });

  it.each([
    ['GET', '/common/oauth2/v2.0/token'],
    ['POST', '/common/oauth2/v2.0/devicecode'],
    ['GET', '/common/oauth2/v2.0/token/extra'],
    ['DELETE', '/common/oauth2/v2.0/logout'],
    ['POST', '/'],
    ['POST', '/health'],
    ['GET', '/common/health'],
  ])('%s %s is answered by no row', (method, path) => {
    expect(findEndpoint(method, segmentsOf(path))).toBeUndefined();
  });

  it('lists the faultable endpoints from the rows marked faultable', () => {
    expect([...FAULTABLE_ENDPOINTS].sort()).toEqual(['discovery', 'jwks', 'token']);
  });

  it('refuses a fault for an endpoint that cannot take one, naming those that can', () => {
    const faults = new FaultQueue();
    expect(() => faults.inject({ type: 'reset' }, { endpoint: 'authorize' as never })).toThrow("faults.inject: endpoint must be one of discovery, jwks, token, got 'authorize'");
    expect(faults.pending).toBe(0);
  });
});
