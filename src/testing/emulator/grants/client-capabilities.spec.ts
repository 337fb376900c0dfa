import { authenticationContextsFrom, clientCapabilitiesFrom, isClaimsChallenge } from './client-capabilities.js';

const CP1 = JSON.stringify({ access_token: { xms_cc: { values: ['cp1'] } } });
const CAPOLIDS = JSON.stringify({ access_token: { capolids: { essential: true, values: ['policy-1'] } } });
// msal merges the client capabilities into the claims challenge it was handed, so both arrive in one parameter.
const MERGED = JSON.stringify({ access_token: { capolids: { essential: true, values: ['policy-1'] }, xms_cc: { values: ['cp1', 'cp2'] } } });

describe('clientCapabilitiesFrom', () => {
  it('reads the declared capabilities', () => {
    expect(clientCapabilitiesFrom(CP1)).toEqual(['cp1']);
    expect(clientCapabilitiesFrom(MERGED)).toEqual(['cp1', 'cp2']);
  });

  it('keeps only string values', () => {
    expect(clientCapabilitiesFrom(JSON.stringify({ access_token: { xms_cc: { values: ['cp1', 2, null, { x: 1 }, 'cp2'] } } }))).toEqual(['cp1', 'cp2']);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an empty string', ''],
    ['malformed JSON', '{"access_token":'],
    ['JSON null', 'null'],
    ['a JSON string', '"cp1"'],
    ['no access_token', JSON.stringify({ id_token: { xms_cc: { values: ['cp1'] } } })],
    ['no xms_cc', CAPOLIDS],
    ['values that are not an array', JSON.stringify({ access_token: { xms_cc: { values: 'cp1' } } })],
  ])('declares nothing for %s', (_label, claims) => {
    expect(clientCapabilitiesFrom(claims)).toEqual([]);
  });
});

describe('isClaimsChallenge', () => {
  it.each([
    ['capolids on the access token', CAPOLIDS],
    ['amr on the ID token', JSON.stringify({ id_token: { amr: { essential: true, values: ['mfa'] } } })],
    ['a challenge merged with client capabilities', MERGED],
  ])('is true for %s', (_label, claims) => {
    expect(isClaimsChallenge(claims)).toBe(true);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an empty string', ''],
    ['malformed JSON', '{"access_token":{"capolids"'],
    ['JSON null', 'null'],
    ['an empty object', '{}'],
    ['client capabilities only', CP1],
    ['an unrelated claim', JSON.stringify({ access_token: { xms_foo: { essential: true } } })],
    // An acrs request is for the authentication-context policies to judge (authenticationContextsFrom).
    ['an authentication context request', JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } })],
  ])('is false for %s', (_label, claims) => {
    expect(isClaimsChallenge(claims)).toBe(false);
  });
});

// Authentication contexts are ids c1 to c99 asked for with `acrs` in the claims request parameter
// (https://learn.microsoft.com/entra/identity-platform/developer-guide-conditional-access-authentication-context).
describe('authenticationContextsFrom', () => {
  it.each([
    ['value on the access token', JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } }), ['c1']],
    ['values on the ID token', JSON.stringify({ id_token: { acrs: { essential: true, values: ['c2', 'C3'] } } }), ['c2', 'c3']],
    ['value and values, deduplicated', JSON.stringify({ access_token: { acrs: { value: 'c1', values: ['c1', 'c99'] } } }), ['c1', 'c99']],
    ['ids outside c1-c99 dropped', JSON.stringify({ access_token: { acrs: { values: ['c0', 'c100', 'x1', 7, 'c5'] } } }), ['c5']],
  ])('reads %s', (_label, claims, expected) => {
    expect(authenticationContextsFrom(claims)).toEqual(expected);
  });

  it.each([
    ['null', null],
    ['malformed JSON', '{"access_token":{"acrs"'],
    ['JSON null', 'null'],
    ['acrs null', JSON.stringify({ access_token: { acrs: null } })],
    ['capolids only', CAPOLIDS],
  ])('asks for nothing for %s', (_label, claims) => {
    expect(authenticationContextsFrom(claims)).toEqual([]);
  });
});
