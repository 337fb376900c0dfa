import { createHash } from 'node:crypto';
import { tokenHash } from './token-hash.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJhbGljZSJ9.c2lnbmF0dXJl';

describe('tokenHash', () => {
  it('is the base64url SHA-256 of the token, the same every time', () => {
    const expected = createHash('sha256').update(TOKEN).digest('base64url');
    expect(tokenHash(TOKEN)).toBe(expected);
    expect(tokenHash(TOKEN)).toBe(tokenHash(TOKEN));
    expect(tokenHash(TOKEN)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('differs for different tokens, and contains no part of the token', () => {
    expect(tokenHash(TOKEN)).not.toBe(tokenHash(`${TOKEN}x`));
    const hash = tokenHash(TOKEN);
    for (const segment of TOKEN.split('.')) expect(hash).not.toContain(segment.slice(0, 8));
  });
});
