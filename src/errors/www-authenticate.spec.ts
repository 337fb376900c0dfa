import { validateHeaderValue } from 'node:http';
import { bearerChallenge } from './www-authenticate.js';

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
