import { ScopePreparation } from './prepared-scopes.js';

describe('ScopePreparation', () => {
  const onBehalfOf = () => new ScopePreparation('on-behalf-of', 'acquireTokenOnBehalfOf');

  it('checks and normalises a list once: the same string gives the same prepared object', () => {
    const scopes = onBehalfOf();
    const first = scopes.of('api://Profile/Read api://profile/write');
    expect(first).toEqual({ list: ['api://Profile/Read', 'api://profile/write'], key: 'api://profile/read api://profile/write' });
    expect(scopes.of('api://Profile/Read api://profile/write')).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.list)).toBe(true);
  });

  it('remembers an array by its contents, not its identity: a changed array is prepared again', () => {
    const scopes = onBehalfOf();
    const list = ['api://profile/Read'];
    expect(scopes.of(list).key).toBe('api://profile/read');
    list[0] = 'api://profile/Write';
    expect(scopes.of(list).key).toBe('api://profile/write');
    expect(scopes.of(['api://profile/Read'])).toBe(scopes.of(['api://profile/Read']));
  });

  it('does not confuse a string with a one-element array, nor arrays that join alike', () => {
    const scopes = onBehalfOf();
    expect(scopes.of('api://p/A api://p/B').list).toEqual(['api://p/A', 'api://p/B']);
    expect(() => scopes.of(['api://p/A api://p/B'])).not.toThrow();
    expect(scopes.of(['api://p/A api://p/B']).list).toEqual(['api://p/A api://p/B']);
  });

  it('throws a TypeError naming the caller and every broken rule, every time (a refusal is not remembered as a success)', () => {
    const scopes = onBehalfOf();
    const bad = ['openid', 'api://a/Read', 'api://b/Read'];
    for (let attempt = 0; attempt < 2; attempt += 1) {
      expect(() => scopes.of(bad)).toThrow(/^acquireTokenOnBehalfOf: openid: OpenID Connect scopes .*; scopes of api:\/\/a and api:\/\/b/);
    }
    expect(() => new ScopePreparation('app', 'acquireTokenForApp').of('api://a/Read')).toThrow("acquireTokenForApp: client credentials take exactly one '{resource}/.default' scope");
  });

  it('prepares, without remembering, an array holding something that is not a string', () => {
    const scopes = onBehalfOf();
    const odd = ['api://p/Read', 7 as unknown as string];
    expect(scopes.of(odd).list).toEqual(['api://p/Read']);
    expect(scopes.of(odd)).not.toBe(scopes.of(odd));
  });
});
