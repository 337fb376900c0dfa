import { validateHeaderValue } from 'node:http';
import { bearerChallenge, parseWwwAuthenticate } from './www-authenticate.js';

describe('bearerChallenge', () => {
  it('is a bare `Bearer` without parameters', () => {
    expect(bearerChallenge()).toBe('Bearer');
    expect(bearerChallenge({})).toBe('Bearer');
  });

  it('lists parameters in order as quoted strings', () => {
    expect(bearerChallenge({ error: 'insufficient_scope', scope: 'a b' })).toBe('Bearer error="insufficient_scope", scope="a b"');
  });

  it('skips undefined parameters but keeps empty ones', () => {
    expect(bearerChallenge({ realm: undefined, error: 'invalid_token', scope: undefined })).toBe('Bearer error="invalid_token"');
    expect(bearerChallenge({ realm: undefined })).toBe('Bearer');
    expect(bearerChallenge({ realm: '' })).toBe('Bearer realm=""');
  });

  it('escapes double quotes and backslashes', () => {
    expect(bearerChallenge({ error_description: 'say "hi" \\ bye' })).toBe('Bearer error_description="say \\"hi\\" \\\\ bye"');
  });

  it('drops control characters, so a message cannot split or forge the header', () => {
    expect(bearerChallenge({ error_description: 'line one\r\nSet-Cookie: x=1\u0000\u001f\u007f\tend' })).toBe('Bearer error_description="line oneSet-Cookie: x=1end"');
  });

  it('drops C1 control characters too', () => {
    expect(bearerChallenge({ error_description: 'a\u0085b\u009bc' })).toBe('Bearer error_description="abc"');
  });

  // Node refuses to send a header with characters outside Latin-1 (or with controls): the filter would throw instead of
  // answering, so the challenge must stay sendable whatever an error message or a scope name contains.
  it.each(['plain', 'quote " and \\', 'newline\r\n', 'accents: ÄÖü', 'dash \u2014 and emoji \u{1F512}', 'nul \u0000 and NEL \u0085'])(
    'is always a value Node accepts as a header: %j',
    (text) => {
      const challenge = bearerChallenge({ error: 'invalid_token', error_description: text });
      expect(() => validateHeaderValue('www-authenticate', challenge)).not.toThrow();
    },
  );
});

describe('parseWwwAuthenticate', () => {
  const claims = '{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}';

  it("reads a CAE challenge as Entra-protected resources send it, claims base64-decoded", () => {
    // The format of a resource's claims challenge, with `claims` base64-encoded:
    // https://learn.microsoft.com/entra/identity-platform/claims-challenge ("Claims challenge header format")
    const header = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${Buffer.from(claims).toString('base64')}"`;
    expect(parseWwwAuthenticate(header)).toEqual({
      params: { realm: '', authorization_uri: 'https://login.microsoftonline.com/common/oauth2/authorize', error: 'insufficient_claims', claims: Buffer.from(claims).toString('base64') },
      error: 'insufficient_claims',
      errorDescription: undefined,
      claims,
      scope: undefined,
      authorizationUri: 'https://login.microsoftonline.com/common/oauth2/authorize',
      realm: '',
    });
  });

  it('reads back what bearerChallenge writes, escapes included', () => {
    const header = bearerChallenge({ error: 'insufficient_scope', scope: 'a b', error_description: 'say "hi" \\ bye' });
    expect(parseWwwAuthenticate(header)).toMatchObject({ error: 'insufficient_scope', scope: 'a b', errorDescription: 'say "hi" \\ bye' });
  });

  it('finds the Bearer challenge among several, with token values and odd spacing', () => {
    const parsed = parseWwwAuthenticate('Basic realm="x", Newauth abc==, bearer  error = invalid_token ,scope="s1" , Other p=1');
    expect(parsed?.params).toEqual({ error: 'invalid_token', scope: 's1' });
  });

  it('accepts raw JSON claims and ignores claims that are neither base64 JSON nor JSON', () => {
    expect(parseWwwAuthenticate(`Bearer error="insufficient_claims", claims="${claims.replace(/"/g, '\\"')}"`)?.claims).toBe(claims);
    expect(parseWwwAuthenticate('Bearer error="insufficient_claims", claims="not-json"')?.claims).toBeUndefined();
  });

  it('is undefined without a Bearer challenge, and never loops on garbage', () => {
    expect(parseWwwAuthenticate(undefined)).toBeUndefined();
    expect(parseWwwAuthenticate('')).toBeUndefined();
    expect(parseWwwAuthenticate('Basic realm="x"')).toBeUndefined();
    expect(parseWwwAuthenticate('=,,"" ==')).toBeUndefined();
    expect(parseWwwAuthenticate('Bearer error="unterminated')?.error).toBe('unterminated');
  });
});
