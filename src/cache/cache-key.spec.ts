import { createHash } from 'node:crypto';
import { appTokenCacheKey, normalizeScopes, oboCacheKey, tokenHash } from './cache-key.js';

const TENANT = '11111111-2222-4333-8444-555555555555';
const OTHER_TENANT = '99999999-8888-4777-8666-555555555555';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJhbGljZSJ9.c2lnbmF0dXJl';
const MFA_CLAIMS = '{"access_token":{"capolids":{"essential":true,"values":["policy-1"]}}}';

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

describe('normalizeScopes', () => {
  it('ignores case, order, duplicates, surrounding space and blanks', () => {
    expect(normalizeScopes(['  api://B/Write', 'api://a/read', 'API://A/READ', '', '   ', 'api://b/write'])).toEqual(['api://a/read', 'api://b/write']);
  });

  it('maps equivalent lists to the same result', () => {
    expect(normalizeScopes(['User.Read', 'Mail.Send'])).toEqual(normalizeScopes(['mail.send', 'USER.READ', 'user.read']));
  });

  it('returns an empty list for nothing but blanks, and does not modify its input', () => {
    const input = Object.freeze(['b', 'A']);
    expect(normalizeScopes([' ', ''])).toEqual([]);
    expect(normalizeScopes(input)).toEqual(['a', 'b']);
    expect(input).toEqual(['b', 'A']);
  });
});

describe('oboCacheKey', () => {
  const hash = tokenHash(TOKEN);
  const scopes = ['api://downstream/Read', 'api://downstream/Write'];
  const base = oboCacheKey(hash, TENANT, scopes);

  it('does not contain the token', () => {
    expect(base).not.toContain(TOKEN);
    expect(base).toContain(hash);
  });

  it('is the same for the same scopes in another order, case, or with duplicates', () => {
    expect(oboCacheKey(hash, TENANT, ['API://DOWNSTREAM/WRITE', 'api://downstream/read', 'api://downstream/Read'])).toBe(base);
  });

  it('differs by incoming token, tenant, scopes and claims', () => {
    const variants = [
      oboCacheKey(tokenHash(`${TOKEN}2`), TENANT, scopes),
      oboCacheKey(hash, OTHER_TENANT, scopes),
      oboCacheKey(hash, TENANT, ['api://downstream/Read']),
      oboCacheKey(hash, TENANT, [...scopes, 'api://downstream/Delete']),
      oboCacheKey(hash, TENANT, scopes, MFA_CLAIMS),
      oboCacheKey(hash, TENANT, scopes, '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  it('keeps the claims out of the key in clear text', () => {
    const key = oboCacheKey(hash, TENANT, scopes, MFA_CLAIMS);
    expect(key).not.toContain('capolids');
    expect(key).not.toContain('policy-1');
  });

  it('treats absent and empty claims alike', () => {
    expect(oboCacheKey(hash, TENANT, scopes, '')).toBe(base);
    expect(oboCacheKey(hash, TENANT, scopes, undefined)).toBe(base);
  });

  it('never collides with an app-token key', () => {
    expect(base).not.toBe(appTokenCacheKey(TENANT, scopes));
  });
});

describe('appTokenCacheKey', () => {
  it('is one key per tenant and normalised scopes', () => {
    const key = appTokenCacheKey(TENANT, ['api://downstream/.default']);
    expect(appTokenCacheKey(TENANT, ['API://Downstream/.default', 'api://downstream/.default'])).toBe(key);
    expect(appTokenCacheKey(OTHER_TENANT, ['api://downstream/.default'])).not.toBe(key);
    expect(appTokenCacheKey(TENANT, ['api://other/.default'])).not.toBe(key);
  });
});
