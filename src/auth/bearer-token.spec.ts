import { bearerCredentialsOf, bearerTokenFrom, isB64Token } from './bearer-token.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2ln-_bmF0dXJl';

describe('bearerTokenFrom', () => {
  it('returns the token of `Bearer <token>`', () => {
    expect(bearerTokenFrom(`Bearer ${JWT}`)).toBe(JWT);
    expect(bearerTokenFrom('Bearer x')).toBe('x');
  });

  it.each(['bearer', 'BEARER', 'bEaReR'])('reads the scheme case-insensitively: %s', (scheme) => {
    expect(bearerTokenFrom(`${scheme} ${JWT}`)).toBe(JWT);
  });

  it.each([2, 3, 10])('accepts %d spaces after the scheme (RFC 6750: 1*SP)', (count) => {
    expect(bearerTokenFrom(`Bearer${' '.repeat(count)}${JWT}`)).toBe(JWT);
    expect(bearerTokenFrom(`bearer${' '.repeat(count)}${JWT}`)).toBe(JWT);
  });

  it('accepts every b64token character and trailing padding', () => {
    const token = 'AZaz09-._~+/abc==';
    expect(bearerTokenFrom(`Bearer ${token}`)).toBe(token);
  });

  it.each([
    ['a space and a tab', `Bearer \t${JWT}`],
    ['only spaces', 'Bearer    '],
    ['a tab', `Bearer\t${JWT}`],
    ['no space', `Bearer${JWT}`],
    ['no token', 'Bearer '],
    ['only the scheme', 'Bearer'],
    ['a trailing space', `Bearer ${JWT} `],
    ['two tokens', `Bearer ${JWT} ${JWT}`],
  ])('rejects %s', (_label, header) => {
    expect(bearerTokenFrom(header)).toBeUndefined();
  });

  it.each(['Basic dXNlcjpwYXNz', `Token ${JWT}`, `DPoP ${JWT}`, `Bearerx ${JWT}`, `MAC ${JWT}`])('rejects another scheme: %s', (header) => {
    expect(bearerTokenFrom(header)).toBeUndefined();
  });

  it.each([
    ['a comma', 'abc,def'],
    ['a quote', 'abc"def'],
    ['padding in the middle', 'ab=cd'],
    ['a non-ASCII letter', 'abcé'],
    ['a control character', 'abc\u0000'],
    ['a semicolon', 'abc;def'],
    ['only padding', '=='],
  ])('rejects a token with %s (outside RFC 6750 b64token)', (_label, token) => {
    expect(bearerTokenFrom(`Bearer ${token}`)).toBeUndefined();
  });

  it('rejects an absent, empty or repeated header', () => {
    expect(bearerTokenFrom(undefined)).toBeUndefined();
    expect(bearerTokenFrom('')).toBeUndefined();
    // Node itself keeps the first Authorization header, but a caller may hand over a header list: never guess which one.
    expect(bearerTokenFrom([`Bearer ${JWT}`])).toBeUndefined();
    expect(bearerTokenFrom([`Bearer ${JWT}`, 'Bearer other'])).toBeUndefined();
    expect(bearerTokenFrom([])).toBeUndefined();
  });
});

describe('bearerCredentialsOf and isB64Token: the two halves of bearerTokenFrom', () => {
  it('takes what follows the scheme and its spaces, unchecked; isB64Token then decides', () => {
    expect(bearerCredentialsOf(`bEaReR   ${JWT}`)).toBe(JWT);
    expect(bearerCredentialsOf(`Bearer ${JWT} ${JWT}`)).toBe(`${JWT} ${JWT}`);
    expect(isB64Token(`${JWT} ${JWT}`)).toBe(false);
    expect(isB64Token(JWT)).toBe(true);
  });

  it.each([
    ['no header', undefined],
    ['a header list', [`Bearer ${JWT}`]],
    ['only the scheme and spaces', 'Bearer    '],
    ['no space', `Bearer${JWT}`],
    ['a tab', `Bearer\t${JWT}`],
    ['another scheme that starts alike', `Bearerx ${JWT}`],
    ['a scheme that differs in one letter', `Beater ${JWT}`],
  ])('gives nothing for %s', (_label, header) => {
    expect(bearerCredentialsOf(header)).toBeUndefined();
  });

  it('agrees with bearerTokenFrom on every header of the cases above', () => {
    const headers = [`Bearer ${JWT}`, `bearer  ${JWT}`, 'Bearer    ', `Bearer\t${JWT}`, `Bearer ${JWT} `, `Bearerx ${JWT}`, 'Basic dXNlcjpwYXNz', 'Bearer x'];
    for (const header of headers) {
      const credentials = bearerCredentialsOf(header);
      expect(credentials !== undefined && isB64Token(credentials) ? credentials : undefined).toBe(bearerTokenFrom(header));
    }
  });
});
