import { tokenHash } from '../util/token-hash.js';
import { appTokenCacheKey, oboCacheKey } from './cache-key.js';

const TENANT = '11111111-2222-4333-8444-555555555555';
const OTHER_TENANT = '99999999-8888-4777-8666-555555555555';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJhbGljZSJ9.c2lnbmF0dXJl';

const API = { clientId: '6e74172b-be56-4843-9ff4-e66a39bb12e3', authorityHost: 'https://login.microsoftonline.com' };

describe('oboCacheKey', () => {
  const hash = tokenHash(TOKEN);
  const scopes = ['api://downstream/Read', 'api://downstream/Write'];
  const base = oboCacheKey(API, hash, TENANT, scopes);

  it('does not contain the token', () => {
    expect(base).not.toContain(TOKEN);
    expect(base).toContain(hash);
  });

  it('is the same for the same scopes in another order, case, or with duplicates, and for ids in another case', () => {
    expect(oboCacheKey(API, hash, TENANT, ['API://DOWNSTREAM/WRITE', 'api://downstream/read', 'api://downstream/Read'])).toBe(base);
    expect(oboCacheKey({ clientId: API.clientId.toUpperCase(), authorityHost: API.authorityHost }, hash, TENANT.toUpperCase(), scopes)).toBe(base);
  });

  it('differs by client id, authority host, incoming token, tenant and scopes', () => {
    const variants = [
      oboCacheKey({ ...API, clientId: '0b1a4d1e-7c3f-4d8e-9a6b-2f5e8c1d3a7b' }, hash, TENANT, scopes),
      oboCacheKey({ ...API, authorityHost: 'https://login.microsoftonline.us' }, hash, TENANT, scopes),
      oboCacheKey(API, tokenHash(`${TOKEN}2`), TENANT, scopes),
      oboCacheKey(API, hash, OTHER_TENANT, scopes),
      oboCacheKey(API, hash, TENANT, ['api://downstream/Read']),
      oboCacheKey(API, hash, TENANT, [...scopes, 'api://downstream/Delete']),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  it('never collides with an app-token key', () => {
    expect(base).not.toBe(appTokenCacheKey(API, TENANT, scopes));
  });
});

describe('appTokenCacheKey', () => {
  it('is one key per client, authority host, tenant and normalised scopes', () => {
    const key = appTokenCacheKey(API, TENANT, ['api://downstream/.default']);
    expect(appTokenCacheKey(API, TENANT, ['API://Downstream/.default', 'api://downstream/.default'])).toBe(key);
    expect(appTokenCacheKey(API, OTHER_TENANT, ['api://downstream/.default'])).not.toBe(key);
    expect(appTokenCacheKey(API, TENANT, ['api://other/.default'])).not.toBe(key);
    // Two APIs sharing one store (one Redis, one prefix) never get each other's app tokens.
    expect(appTokenCacheKey({ ...API, clientId: '0b1a4d1e-7c3f-4d8e-9a6b-2f5e8c1d3a7b' }, TENANT, ['api://downstream/.default'])).not.toBe(key);
    expect(appTokenCacheKey({ ...API, authorityHost: 'https://login.chinacloudapi.cn' }, TENANT, ['api://downstream/.default'])).not.toBe(key);
  });
});
