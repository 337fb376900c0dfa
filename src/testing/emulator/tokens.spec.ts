import { createHash } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, type CompactJWSHeaderParameters } from 'jose';
import { EmulatorClock } from './clock.js';
import { type EmulatorApp, type EmulatorUser } from './directory.js';
import { SigningKeyRing } from './signing-keys.js';
import { DEFAULT_TOKEN_LIFETIMES, lifetimeProblems, type EmulatorTokenLifetimes } from './token-lifetimes.js';
import { TokenIssuer, pairwiseSubject, seededRandom, type IssuedToken } from './tokens.js';
import { CONTOSO_ID, FABRIKAM_ID, twoTenantDirectory } from './unit-fixtures.spec.fixtures.js';

const AUTHORITY_HOST = 'https://127.0.0.1:8443';
const NOW_SEC = Date.UTC(2030, 0, 1, 12, 0, 0) / 1000;
/** Fixed lifetimes, so that the claims tests can do expiry arithmetic. */
const FIXED_LIFETIMES: EmulatorTokenLifetimes = { ...DEFAULT_TOKEN_LIFETIMES, accessTokenSec: 3600, accessTokenExtensionSec: 1800 };
const ACCESS_TOKEN_SEC = 3600;

/**
 * The claims every v2 access token a tenant issues at NOW_SEC carries: its issuer, `iat` and `nbf` 300 s back (the
 * issuer's allowance for clock skew), `exp` after the fixed lifetime, and an opaque `aio`.
 */
function v2AccessTokenIssuedNow(tenantId: string): Record<string, unknown> {
  return { iss: `${AUTHORITY_HOST}/${tenantId}/v2.0`, iat: NOW_SEC - 300, nbf: NOW_SEC - 300, exp: NOW_SEC + ACCESS_TOKEN_SEC, aio: expect.any(String) };
}

describe('TokenIssuer', () => {
  let ring: SigningKeyRing;
  let issuer: TokenIssuer;
  let apiV2: EmulatorApp;
  let apiV1: EmulatorApp;
  let apiWithOptionalClaims: EmulatorApp;
  let clientWithOptionalClaims: EmulatorApp;
  let graph: EmulatorApp;
  let clock: EmulatorClock;
  let client: EmulatorApp;
  let alice: EmulatorUser;
  let aliceAsGuest: EmulatorUser;

  /** Checks the signature against the ring's public key, then returns what was signed. */
  async function verified(issued: IssuedToken): Promise<{ header: CompactJWSHeaderParameters; claims: Record<string, unknown> }> {
    const { payload, protectedHeader } = await compactVerify(issued.token, ring.active.publicKey, { algorithms: ['RS256'] });
    return { header: protectedHeader, claims: JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown> };
  }

  beforeAll(async () => {
    // One RSA key for the whole file: generating keys is the slow part.
    ring = await SigningKeyRing.create();
  });

  beforeEach(() => {
    clock = new EmulatorClock();
    clock.freeze(new Date(NOW_SEC * 1000));
    issuer = new TokenIssuer(ring, clock, AUTHORITY_HOST, FIXED_LIFETIMES);

    const { directory } = twoTenantDirectory();
    apiV2 = directory.addApp({ displayName: 'API v2', tenantId: CONTOSO_ID, signInAudience: 'AzureADMultipleOrgs', scopes: ['access_as_user', 'Files.Read'], appRoles: ['Data.Read'] });
    apiV1 = directory.addApp({ displayName: 'API v1', tenantId: CONTOSO_ID, scopes: ['user_impersonation'], appRoles: ['Data.Read'], accessTokenVersion: 1 });
    client = directory.addApp({ displayName: 'Web', tenantId: CONTOSO_ID, signInAudience: 'AzureADMultipleOrgs' });
    apiWithOptionalClaims = directory.addApp({
      displayName: 'API with optional claims',
      tenantId: CONTOSO_ID,
      signInAudience: 'AzureADMultipleOrgs',
      scopes: ['access_as_user'],
      optionalClaims: { accessToken: ['idtyp', 'xms_cc', 'acct'] },
    });
    clientWithOptionalClaims = directory.addApp({ displayName: 'Web with acct', tenantId: CONTOSO_ID, optionalClaims: { idToken: ['acct'] } });
    graph = directory.microsoftGraph;
    alice = directory.addUser({ tenantId: CONTOSO_ID, username: 'alice', displayName: 'Alice Smith' });
    aliceAsGuest = directory.addGuest({ member: alice, tenantId: FABRIKAM_ID });
  });

  // v2 headers are typ, alg, kid; v1 headers add x5t (access-token-claims-reference, "Header claims").
  it('signs with RS256 and names the active key by kid (and, in v1 tokens only, by x5t)', async () => {
    const v2 = await issuer.userAccessToken({ user: alice, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret' });
    expect((await verified(v2)).header).toEqual({ typ: 'JWT', alg: 'RS256', kid: ring.active.kid });
    const v1 = await issuer.userAccessToken({ user: alice, client, resource: apiV1, scopes: ['user_impersonation'], amr: ['pwd'], authenticatedBy: 'secret' });
    expect((await verified(v1)).header).toEqual({ typ: 'JWT', alg: 'RS256', x5t: ring.active.x5t, kid: ring.active.kid });
    expect((await verified(await issuer.idToken({ user: alice, client }))).header).toEqual({ typ: 'JWT', alg: 'RS256', kid: ring.active.kid });
  });

  describe('v2 user access tokens', () => {
    it('carry the claims Entra puts in them', async () => {
      const issued = await issuer.userAccessToken({
        user: alice,
        client,
        resource: apiV2,
        scopes: ['access_as_user', 'Files.Read'],
        amr: ['pwd', 'mfa'],
        authenticatedBy: 'secret',
      });
      const { claims } = await verified(issued);
      expect(claims).toEqual(issued.claims);
      expect(claims).toEqual({
        aud: apiV2.clientId,
        ...v2AccessTokenIssuedNow(CONTOSO_ID),
        azp: client.clientId,
        azpacr: '1',
        name: 'Alice Smith',
        oid: alice.id,
        preferred_username: 'alice@contoso.onmicrosoft.com',
        rh: expect.stringMatching(/\.$/),
        scp: 'access_as_user Files.Read',
        sub: pairwiseSubject(alice.id, apiV2.clientId),
        tid: CONTOSO_ID,
        uti: expect.any(String),
        ver: '2.0',
      });
      expect(issued.expiresInSec).toBe(ACCESS_TOKEN_SEC);
      expect(issued.extExpiresInSec).toBe(ACCESS_TOKEN_SEC + 1800);
    });

    // amr is a v1 claim; v2 access tokens carry none, so an API must not decide MFA from it. The emulator keeps the
    // sign-in's methods with the session instead, found again by the token's uti.
    it('carry no amr, but the sign-in behind them is remembered by uti until the token expires', async () => {
      const issued = await issuer.userAccessToken({ user: alice, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd', 'mfa'], authenticatedBy: 'secret' });
      expect(issued.claims).not.toHaveProperty('amr');
      expect(issuer.signInOf(issued.claims.uti)).toEqual({ amr: ['pwd', 'mfa'] });
      expect(issuer.signInOf('unknown-uti')).toBeUndefined();
      expect(issuer.signInOf(undefined)).toBeUndefined();
      clock.advanceSec(ACCESS_TOKEN_SEC);
      expect(issuer.signInOf(issued.claims.uti)).toBeUndefined();
    });

    it('leave out idtyp, xms_cc and acct unless the resource configured them as optional claims', async () => {
      const base = { user: alice, client, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret' as const, clientCapabilities: ['cp1'] };
      const plain = await issuer.userAccessToken({ ...base, resource: apiV2 });
      for (const optional of ['idtyp', 'xms_cc', 'acct']) expect(plain.claims).not.toHaveProperty(optional);
      const configured = await issuer.userAccessToken({ ...base, resource: apiWithOptionalClaims });
      // acct: 0 for a member, 1 for a guest (optional-claims-reference).
      expect(configured.claims).toMatchObject({ idtyp: 'user', xms_cc: ['cp1'], acct: 0 });
      const guest = await issuer.userAccessToken({ ...base, user: aliceAsGuest, resource: apiWithOptionalClaims });
      expect(guest.claims.acct).toBe(1);
    });

    it('report how the client authenticated in azpacr', async () => {
      const azpacrFor = async (authenticatedBy: 'public' | 'secret' | 'certificate') =>
        (await issuer.userAccessToken({ user: alice, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy })).claims.azpacr;
      expect(await azpacrFor('public')).toBe('0');
      expect(await azpacrFor('secret')).toBe('1');
      expect(await azpacrFor('certificate')).toBe('2');
    });

    it('take exp from the lifetime asked for', async () => {
      const issued = await issuer.userAccessToken({ user: alice, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret', lifetimeSec: 600 });
      expect(issued.claims.exp).toBe(NOW_SEC + 600);
      expect(issued.expiresInSec).toBe(600);
      expect(issued.refreshInSec).toBeUndefined();
    });

    it('carry refresh_in when they live longer than two hours: half the life, or the configured fraction', async () => {
      const spec = { user: alice, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret' as const };
      expect((await issuer.userAccessToken({ ...spec, lifetimeSec: 86_400 })).refreshInSec).toBe(43_200);
      expect((await issuer.userAccessToken({ ...spec, lifetimeSec: 7200 })).refreshInSec).toBeUndefined();
      const quarter = new TokenIssuer(ring, clock, AUTHORITY_HOST, { ...FIXED_LIFETIMES, refreshInFraction: 0.25 });
      expect((await quarter.appAccessToken({ client, resource: apiV2, tenantId: CONTOSO_ID, servicePrincipalId: client.clientId, roles: [], authenticatedBy: 'secret', lifetimeSec: 28_800 })).refreshInSec).toBe(7200);
    });

    it('carry xms_cc only when the client declared capabilities (and the resource asked for it)', async () => {
      const base = { user: alice, client, resource: apiWithOptionalClaims, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret' as const };
      expect((await issuer.userAccessToken({ ...base, clientCapabilities: ['cp1'] })).claims.xms_cc).toEqual(['cp1']);
      expect('xms_cc' in (await issuer.userAccessToken({ ...base, clientCapabilities: [] })).claims).toBe(false);
      expect('xms_cc' in (await issuer.userAccessToken(base)).claims).toBe(false);
    });

    it('get fresh aio, rh and uti values every time', async () => {
      const spec = { user: alice, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret' as const };
      const first = await issuer.userAccessToken(spec);
      const second = await issuer.userAccessToken(spec);
      expect(second.claims.uti).not.toBe(first.claims.uti);
      expect(second.claims.aio).not.toBe(first.claims.aio);
      expect(second.claims.rh).not.toBe(first.claims.rh);
    });
  });

  describe('v1 user access tokens', () => {
    it('use the v1 issuer, the App ID URI as aud, appid/appidacr and upn/unique_name', async () => {
      const issued = await issuer.userAccessToken({ user: alice, client, resource: apiV1, scopes: ['user_impersonation'], amr: ['pwd'], authenticatedBy: 'certificate' });
      const { claims } = await verified(issued);
      expect(claims).toMatchObject({
        aud: `api://${apiV1.clientId}`,
        iss: `https://sts.windows.net/${CONTOSO_ID}/`,
        acr: '1',
        appid: client.clientId,
        appidacr: '2',
        upn: 'alice@contoso.onmicrosoft.com',
        unique_name: 'alice@contoso.onmicrosoft.com',
        amr: ['pwd'],
        scp: 'user_impersonation',
        sub: pairwiseSubject(alice.id, apiV1.clientId),
        ver: '1.0',
      });
      for (const v2Only of ['azp', 'azpacr', 'preferred_username']) expect(claims).not.toHaveProperty(v2Only);
    });

    it('use the audience the client asked for', async () => {
      const issued = await issuer.userAccessToken({
        user: alice,
        client,
        resource: apiV1,
        scopes: ['user_impersonation'],
        amr: ['pwd'],
        authenticatedBy: 'secret',
        requestedAudience: apiV1.clientId,
      });
      expect(issued.claims.aud).toBe(apiV1.clientId);
    });
  });

  describe('guest tokens', () => {
    it('are issued in the resource tenant, with the home tenant as idp (acct only as an optional claim)', async () => {
      const issued = await issuer.userAccessToken({ user: aliceAsGuest, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret' });
      const { claims } = await verified(issued);
      expect(claims).toMatchObject({
        iss: `${AUTHORITY_HOST}/${FABRIKAM_ID}/v2.0`,
        tid: FABRIKAM_ID,
        oid: aliceAsGuest.id,
        idp: `https://sts.windows.net/${CONTOSO_ID}/`,
        preferred_username: aliceAsGuest.username,
        sub: pairwiseSubject(aliceAsGuest.id, apiV2.clientId),
      });
      expect(claims).not.toHaveProperty('acct');
    });

    it('are not given to members: no acct, no idp', async () => {
      const issued = await issuer.userAccessToken({ user: alice, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret' });
      expect(issued.claims).not.toHaveProperty('acct');
      expect(issued.claims).not.toHaveProperty('idp');
    });
  });

  describe('app-only access tokens', () => {
    const servicePrincipalId = '55555555-5555-4555-8555-555555555555';

    // An API recognises them without idtyp: no scp, and oid = sub (access-token-claims-reference, "idtyp").
    it('have roles, oid = sub = the service principal, no scp, and idtyp app only as an optional claim', async () => {
      const issued = await issuer.appAccessToken({ client, resource: apiV2, tenantId: FABRIKAM_ID, servicePrincipalId, roles: ['Data.Read'], authenticatedBy: 'certificate' });
      const { claims } = await verified(issued);
      expect(claims).toEqual({
        aud: apiV2.clientId,
        ...v2AccessTokenIssuedNow(FABRIKAM_ID),
        azp: client.clientId,
        azpacr: '2',
        idp: `https://sts.windows.net/${FABRIKAM_ID}/`,
        oid: servicePrincipalId,
        rh: expect.any(String),
        roles: ['Data.Read'],
        sub: servicePrincipalId,
        tid: FABRIKAM_ID,
        uti: expect.any(String),
        ver: '2.0',
      });
    });

    it('carry idtyp app when the resource configured it', async () => {
      const issued = await issuer.appAccessToken({ client, resource: apiWithOptionalClaims, tenantId: CONTOSO_ID, servicePrincipalId, roles: [], authenticatedBy: 'secret' });
      expect(issued.claims.idtyp).toBe('app');
    });

    it('leave roles out when none were granted', async () => {
      const issued = await issuer.appAccessToken({ client, resource: apiV2, tenantId: CONTOSO_ID, servicePrincipalId, roles: [], authenticatedBy: 'secret' });
      expect(issued.claims).not.toHaveProperty('roles');
    });

    it('follow the v1 format for a v1 resource', async () => {
      const issued = await issuer.appAccessToken({ client, resource: apiV1, tenantId: CONTOSO_ID, servicePrincipalId, roles: ['Data.Read'], authenticatedBy: 'secret' });
      expect(issued.claims).toMatchObject({ aud: `api://${apiV1.clientId}`, iss: `https://sts.windows.net/${CONTOSO_ID}/`, appid: client.clientId, appidacr: '1', ver: '1.0' });
      expect(issued.claims).not.toHaveProperty('azp');
      expect(issued.claims).not.toHaveProperty('scp');
    });
  });

  describe('ID tokens', () => {
    it('are for the client, carry the nonce and aio, and no scp or amr', async () => {
      const issued = await issuer.idToken({ user: alice, client, nonce: 'n-0S6_WzA2Mj' });
      const { claims } = await verified(issued);
      expect(claims).toMatchObject({
        aud: client.clientId,
        iss: `${AUTHORITY_HOST}/${CONTOSO_ID}/v2.0`,
        nonce: 'n-0S6_WzA2Mj',
        oid: alice.id,
        preferred_username: 'alice@contoso.onmicrosoft.com',
        sub: pairwiseSubject(alice.id, client.clientId),
        tid: CONTOSO_ID,
        ver: '2.0',
        exp: NOW_SEC + DEFAULT_TOKEN_LIFETIMES.idTokenSec,
        sid: expect.stringMatching(/^[0-9a-f-]{36}$/),
        aio: expect.any(String),
      });
      for (const absent of ['scp', 'roles', 'amr', 'acct', 'c_hash']) expect(claims).not.toHaveProperty(absent);
    });

    it('have no nonce when none was sent', async () => {
      const issued = await issuer.idToken({ user: alice, client });
      expect(issued.claims).not.toHaveProperty('nonce');
    });

    it('carry acct when the client configured it, and c_hash when they travel with a code', async () => {
      expect((await issuer.idToken({ user: aliceAsGuest, client: clientWithOptionalClaims })).claims.acct).toBe(1);
      const code = '1.AbCdEf';
      const digest = createHash('sha256').update(code).digest();
      expect((await issuer.idToken({ user: alice, client, code })).claims.c_hash).toBe(digest.subarray(0, 16).toString('base64url'));
    });
  });

  describe('overrides', () => {
    it('set and remove claims before signing', async () => {
      const issued = await issuer.userAccessToken(
        { user: alice, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret' },
        { claims: { aud: 'api://someone-else', scp: undefined, extra: { nested: true } } },
      );
      const { claims } = await verified(issued);
      expect(claims.aud).toBe('api://someone-else');
      expect(claims.extra).toEqual({ nested: true });
      expect(claims).not.toHaveProperty('scp');
      expect(issued.claims).toEqual(claims);
    });

    it('set and remove header members before signing', async () => {
      const issued = await issuer.idToken({ user: alice, client }, { header: { kid: 'unknown-kid', x5t: undefined, nonce: 'graph-style' } });
      const { header } = await verified(issued);
      expect(header).toEqual({ typ: 'JWT', alg: 'RS256', kid: 'unknown-kid', nonce: 'graph-style' });
    });
  });

  describe('Microsoft Graph tokens', () => {
    // Graph's tokens carry a header nonce and are signed over its SHA-256, so no resource but Graph validates them
    // (https://github.com/AzureAD/azure-activedirectory-identitymodel-extensions-for-dotnet/issues/609).
    it('are v1 for https://graph.microsoft.com, with a header nonce that makes standard validation fail', async () => {
      const issued = await issuer.userAccessToken({ user: alice, client, resource: graph, scopes: ['User.Read'], amr: ['pwd'], authenticatedBy: 'secret', requestedAudience: 'https://graph.microsoft.com' });
      expect(issued.claims).toMatchObject({ aud: 'https://graph.microsoft.com', iss: `https://sts.windows.net/${CONTOSO_ID}/`, ver: '1.0', scp: 'User.Read', amr: ['pwd'] });
      const header = decodeProtectedHeader(issued.token);
      expect(Object.keys(header)).toEqual(['typ', 'nonce', 'alg', 'x5t', 'kid']);
      await expect(compactVerify(issued.token, ring.active.publicKey, { algorithms: ['RS256'] })).rejects.toThrow(/signature verification failed/);

      const [, payload, signature] = issued.token.split('.');
      const hashed = { ...header, nonce: createHash('sha256').update(header.nonce as string).digest('base64url') };
      const asSigned = `${Buffer.from(JSON.stringify(hashed)).toString('base64url')}.${payload}.${signature}`;
      await expect(compactVerify(asSigned, ring.active.publicKey, { algorithms: ['RS256'] })).resolves.toBeDefined();
    });
  });

  describe('lifetimes', () => {
    // Entra's default access-token lifetime is random between 60 and 90 minutes (configurable-token-lifetimes).
    it('draw access-token lifetimes from [3600, 5400] by default, not all equal', async () => {
      const random = new TokenIssuer(ring, clock, AUTHORITY_HOST, DEFAULT_TOKEN_LIFETIMES);
      const lifetimes = await Promise.all(
        Array.from({ length: 20 }, async () => (await random.userAccessToken({ user: alice, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret' })).expiresInSec),
      );
      for (const lifetime of lifetimes) {
        expect(lifetime).toBeGreaterThanOrEqual(3600);
        expect(lifetime).toBeLessThanOrEqual(5400);
      }
      expect(new Set(lifetimes).size).toBeGreaterThan(1);
    });

    it('repeat the same draws for the same seed', () => {
      const draws = (seed: number) => {
        const seeded = new TokenIssuer(ring, clock, AUTHORITY_HOST, DEFAULT_TOKEN_LIFETIMES, seededRandom(seed));
        return Array.from({ length: 5 }, () => seeded.accessTokenLifetimeSec());
      };
      expect(draws(42)).toEqual(draws(42));
      expect(draws(42)).not.toEqual(draws(43));
    });

    it('report what is wrong with configured lifetimes', () => {
      expect(lifetimeProblems(DEFAULT_TOKEN_LIFETIMES)).toEqual([]);
      expect(lifetimeProblems({ ...DEFAULT_TOKEN_LIFETIMES, accessTokenSec: { minSec: 600, maxSec: 300 }, accessTokenExtensionSec: -1, idTokenSec: 0 })).toEqual([
        'tokenLifetimes.accessTokenSec.maxSec must not be below minSec',
        'tokenLifetimes.accessTokenExtensionSec must be a non-negative integer of seconds, got -1',
        'tokenLifetimes.idTokenSec must be a positive integer of seconds, got 0',
      ]);
    });
  });

  describe('issuers and keys', () => {
    it('recognises its own v1 and v2 issuers for a tenant', () => {
      expect(issuer.issuerV2(CONTOSO_ID)).toBe(`${AUTHORITY_HOST}/${CONTOSO_ID}/v2.0`);
      expect(issuer.issuerV1(CONTOSO_ID)).toBe(`https://sts.windows.net/${CONTOSO_ID}/`);
      expect(issuer.isOwnIssuer(`${AUTHORITY_HOST}/${CONTOSO_ID}/v2.0`, CONTOSO_ID)).toBe(true);
      expect(issuer.isOwnIssuer(`https://sts.windows.net/${CONTOSO_ID}/`, CONTOSO_ID)).toBe(true);
      expect(issuer.isOwnIssuer(`${AUTHORITY_HOST}/${CONTOSO_ID}/v2.0`, FABRIKAM_ID)).toBe(false);
      expect(issuer.isOwnIssuer('https://login.microsoftonline.com/x/v2.0', CONTOSO_ID)).toBe(false);
      expect(issuer.isOwnIssuer(`${AUTHORITY_HOST}/${CONTOSO_ID}/v2.0`, undefined)).toBe(false);
    });

    it('finds the verification key of a published kid only', () => {
      expect(issuer.findVerificationKey(ring.active.kid)).toBe(ring.active.publicKey);
      expect(issuer.findVerificationKey('unknown')).toBeUndefined();
    });
  });
});

describe('pairwiseSubject', () => {
  const user = '66666666-6666-4666-8666-666666666666';
  const appA = '77777777-7777-4777-8777-777777777777';
  const appB = '88888888-8888-4888-8888-888888888888';

  it('is stable for one user and app, and differs per app and per user', () => {
    const subject = pairwiseSubject(user, appA);
    expect(pairwiseSubject(user, appA)).toBe(subject);
    expect(pairwiseSubject(user, appB)).not.toBe(subject);
    expect(pairwiseSubject(appA, user)).not.toBe(subject);
  });

  it('reveals neither the object id nor the client id (a base64url SHA-256)', () => {
    const subject = pairwiseSubject(user, appA);
    expect(subject).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(subject).not.toContain(user);
  });
});
