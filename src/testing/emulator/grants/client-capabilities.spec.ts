import { clientCapabilitiesFrom, isClaimsChallenge } from './client-capabilities.js';

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
    ['acrs on the access token', JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } })],
    ['acrs on the ID token', JSON.stringify({ id_token: { acrs: { essential: true, values: ['c1'] } } })],
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
  ])('is false for %s', (_label, claims) => {
    expect(isClaimsChallenge(claims)).toBe(false);
  });
});
