import { compactVerify, type CompactJWSHeaderParameters } from 'jose';
import { EmulatorClock } from './clock.js';
import { EmulatorDirectory, type EmulatorApp, type EmulatorUser } from './directory.js';
import { SigningKeyRing } from './signing-keys.js';
import { DEFAULT_TOKEN_LIFETIMES, TokenIssuer, pairwiseSubject, type IssuedToken } from './tokens.js';

const AUTHORITY_HOST = 'https://127.0.0.1:8443';
const CONTOSO_ID = '11111111-1111-4111-8111-111111111111';
const FABRIKAM_ID = '22222222-2222-4222-8222-222222222222';
const NOW_SEC = Date.UTC(2030, 0, 1, 12, 0, 0) / 1000;

describe('TokenIssuer', () => {
  let ring: SigningKeyRing;
  let issuer: TokenIssuer;
  let apiV2: EmulatorApp;
  let apiV1: EmulatorApp;
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
    const clock = new EmulatorClock();
    clock.freeze(new Date(NOW_SEC * 1000));
    issuer = new TokenIssuer(ring, clock, AUTHORITY_HOST, DEFAULT_TOKEN_LIFETIMES);

    const directory = new EmulatorDirectory();
    directory.addTenant({ id: CONTOSO_ID, displayName: 'Contoso' });
    directory.addTenant({ id: FABRIKAM_ID, displayName: 'Fabrikam' });
    apiV2 = directory.addApp({ displayName: 'API v2', tenantId: CONTOSO_ID, signInAudience: 'AzureADMultipleOrgs', scopes: ['access_as_user', 'Files.Read'], appRoles: ['Data.Read'] });
    apiV1 = directory.addApp({ displayName: 'API v1', tenantId: CONTOSO_ID, scopes: ['user_impersonation'], appRoles: ['Data.Read'], accessTokenVersion: 1 });
    client = directory.addApp({ displayName: 'Web', tenantId: CONTOSO_ID, signInAudience: 'AzureADMultipleOrgs' });
    alice = directory.addUser({ tenantId: CONTOSO_ID, username: 'alice', displayName: 'Alice Smith' });
    aliceAsGuest = directory.addGuest({ member: alice, tenantId: FABRIKAM_ID });
  });

  it('signs with RS256 and names the active key by kid and x5t', async () => {
    const issued = await issuer.userAccessToken({ user: alice, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret' });
    const { header } = await verified(issued);
    expect(header).toEqual({ typ: 'JWT', alg: 'RS256', kid: ring.active.kid, x5t: ring.active.x5t });
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
        iss: `${AUTHORITY_HOST}/${CONTOSO_ID}/v2.0`,
        iat: NOW_SEC - 300,
        nbf: NOW_SEC - 300,
        exp: NOW_SEC + DEFAULT_TOKEN_LIFETIMES.accessTokenSec,
        aio: expect.any(String),
        amr: ['pwd', 'mfa'],
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
      expect(issued.expiresInSec).toBe(DEFAULT_TOKEN_LIFETIMES.accessTokenSec);
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
    });

    it('carry xms_cc only when the client declared capabilities', async () => {
      const base = { user: alice, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret' as const };
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
    it('are issued in the resource tenant, with acct 1 and the home tenant as idp', async () => {
      const issued = await issuer.userAccessToken({ user: aliceAsGuest, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret' });
      const { claims } = await verified(issued);
      expect(claims).toMatchObject({
        iss: `${AUTHORITY_HOST}/${FABRIKAM_ID}/v2.0`,
        tid: FABRIKAM_ID,
        oid: aliceAsGuest.id,
        acct: 1,
        idp: `https://sts.windows.net/${CONTOSO_ID}/`,
        preferred_username: aliceAsGuest.username,
        sub: pairwiseSubject(aliceAsGuest.id, apiV2.clientId),
      });
    });

    it('are not given to members: no acct, no idp', async () => {
      const issued = await issuer.userAccessToken({ user: alice, client, resource: apiV2, scopes: ['access_as_user'], amr: ['pwd'], authenticatedBy: 'secret' });
      expect(issued.claims).not.toHaveProperty('acct');
      expect(issued.claims).not.toHaveProperty('idp');
    });
  });

  describe('app-only access tokens', () => {
    const servicePrincipalId = '55555555-5555-4555-8555-555555555555';

    it('have idtyp app, roles, oid = sub = the service principal, and no scp', async () => {
      const issued = await issuer.appAccessToken({ client, resource: apiV2, tenantId: FABRIKAM_ID, servicePrincipalId, roles: ['Data.Read'], authenticatedBy: 'certificate' });
      const { claims } = await verified(issued);
      expect(claims).toEqual({
        aud: apiV2.clientId,
        iss: `${AUTHORITY_HOST}/${FABRIKAM_ID}/v2.0`,
        iat: NOW_SEC - 300,
        nbf: NOW_SEC - 300,
        exp: NOW_SEC + DEFAULT_TOKEN_LIFETIMES.accessTokenSec,
        aio: expect.any(String),
        azp: client.clientId,
        azpacr: '2',
        idp: `https://sts.windows.net/${FABRIKAM_ID}/`,
        idtyp: 'app',
        oid: servicePrincipalId,
        rh: expect.any(String),
        roles: ['Data.Read'],
        sub: servicePrincipalId,
        tid: FABRIKAM_ID,
        uti: expect.any(String),
        ver: '2.0',
      });
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
    it('are for the client, carry the nonce and no scp', async () => {
      const issued = await issuer.idToken({ user: alice, client, amr: ['pwd'], nonce: 'n-0S6_WzA2Mj' });
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
      });
      expect(claims).not.toHaveProperty('scp');
      expect(claims).not.toHaveProperty('roles');
    });

    it('have no nonce when none was sent', async () => {
      const issued = await issuer.idToken({ user: alice, client, amr: ['pwd'] });
      expect(issued.claims).not.toHaveProperty('nonce');
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
      const issued = await issuer.idToken({ user: alice, client, amr: ['pwd'] }, { header: { kid: 'unknown-kid', x5t: undefined, nonce: 'graph-style' } });
      const { header } = await verified(issued);
      expect(header).toEqual({ typ: 'JWT', alg: 'RS256', kid: 'unknown-kid', nonce: 'graph-style' });
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
