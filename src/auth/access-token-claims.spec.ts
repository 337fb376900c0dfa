import { InvalidTokenError } from '../errors/obo-errors.js';
import { principalOf, validityWindowOf } from './access-token-claims.js';

const TID = '11111111-2222-4333-8444-555555555555';
const ISSUER = `https://login.microsoftonline.com/${TID}/v2.0`;
const NOW_MS = 1_800_000_000_000;
const NOW_SEC = NOW_MS / 1000;

const userClaims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  tid: TID, iss: ISSUER, oid: 'a0a0a0a0-0000-4000-8000-000000000001', sub: 'pairwise-subject', azp: 'client-app', scp: 'Profile.Read  Profile.Write', ...overrides,
});

function reasonOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidTokenError) return error.reason;
    throw error;
  }
  return undefined;
}

describe('validityWindowOf', () => {
  it('gives exp and nbf in ms, with no nbf meaning "since always"', () => {
    expect(validityWindowOf({ exp: NOW_SEC + 60, nbf: NOW_SEC - 60 }, NOW_MS, 0)).toEqual({ expiresOnMs: NOW_MS + 60_000, notBeforeMs: NOW_MS - 60_000 });
    expect(validityWindowOf({ exp: NOW_SEC + 60 }, NOW_MS, 0).notBeforeMs).toBe(Number.NEGATIVE_INFINITY);
  });

  it.each([
    ['no exp', {}, 'expired'],
    ['exp as a string (RFC 7519 NumericDate is a number)', { exp: String(NOW_SEC + 60) }, 'malformed'],
    ['nbf as a word', { exp: NOW_SEC + 60, nbf: 'soon' }, 'malformed'],
    ['iat of the wrong type', { exp: NOW_SEC + 60, iat: [NOW_SEC] }, 'malformed'],
    ['exp in the past beyond the tolerance', { exp: NOW_SEC - 61 }, 'expired'],
    ['nbf in the future beyond the tolerance', { exp: NOW_SEC + 600, nbf: NOW_SEC + 61 }, 'not_yet_valid'],
  ])('refuses %s', (_name, claims, reason) => {
    expect(reasonOf(() => validityWindowOf(claims, NOW_MS, 60_000))).toBe(reason);
  });

  it('accepts times within the clock tolerance on either side', () => {
    expect(reasonOf(() => validityWindowOf({ exp: NOW_SEC - 59, nbf: NOW_SEC + 59 }, NOW_MS, 60_000))).toBeUndefined();
  });
});

describe('principalOf', () => {
  const context = { tid: TID, issuers: [ISSUER], allowGuests: false };

  it('builds a frozen-claims principal with scopes split on spaces and the client from azp or appid', () => {
    const principal = principalOf(userClaims({ name: 'Alice', preferred_username: 'alice@contoso.example' }), context);
    expect(principal).toMatchObject({ tid: TID, sub: 'pairwise-subject', clientId: 'client-app', name: 'Alice', username: 'alice@contoso.example', isAppOnly: false, isGuest: false });
    expect(principal.scopes).toEqual(['Profile.Read', 'Profile.Write']);
    expect(Object.isFrozen(principal.claims)).toBe(true);
    expect(principalOf(userClaims({ azp: undefined, appid: 'v1-client' }), context).clientId).toBe('v1-client');
  });

  it.each([
    ['an ID token (no azp or appid), even with roles', { azp: undefined, roles: ['Admin'] }, 'id_token'],
    ['a token with neither scp nor roles', { scp: undefined }, 'no_permissions'],
    ['a guest (idp of another issuer) when guests are not allowed', { idp: 'https://sts.windows.net/99999999-8888-4777-8666-555555555555/' }, 'guest'],
    ['a token without oid', { oid: undefined }, 'malformed'],
  ])('refuses %s', (_name, overrides, reason) => {
    expect(reasonOf(() => principalOf(userClaims(overrides), context))).toBe(reason);
  });

  it('accepts that guest when guests are allowed, and marks it', () => {
    const principal = principalOf(userClaims({ idp: 'https://sts.windows.net/99999999-8888-4777-8666-555555555555/' }), { ...context, allowGuests: true });
    expect(principal.isGuest).toBe(true);
  });
});
