import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { SignJWT } from 'jose';
import { JWT_BEARER_GRANT } from '../../src/testing/index.js';
import { userToken, useEmulator } from '../support/emulator.js';
import {
  aadstsOf,
  CLIENT_ASSERTION_TYPE,
  claimsOf,
  confidentialClient,
  headerOf,
  hexToBase64Url,
  rawErrorNo,
  middleTierOnCertificate,
  recordingNetworkClient,
  rejectionOf,
  serializedCache,
  tokenRequestsSince,
} from './msal-test-kit.js';

describe('On-Behalf-Of: real msal-node against the emulator', () => {
  // Fixed lifetimes: one test moves the clock past a token's expiry.
  const entra = useEmulator({ tokenLifetimes: { accessTokenSec: 3600 } });
  /** The msal error a fresh middle-tier client gets for exchanging `assertion` (for the downstream API's read scope by default). */
  const oboRejection = (assertion: string, scopes = [entra.defaults.apps.downstreamApi.scopes.read]) =>
    rejectionOf(confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: assertion, scopes }));

  describe('successful exchanges', () => {
    it('exchanges a user token with the client secret for an Entra-shaped downstream token', async () => {
      const d = entra.defaults;
      const network = recordingNetworkClient(entra.networkClient);
      const msal = confidentialClient(entra, { networkClient: network });
      const assertion = await userToken(entra, d.users.member);
      entra.clearRequests();

      const result = await msal.acquireTokenOnBehalfOf({ oboAssertion: assertion, scopes: [d.apps.downstreamApi.scopes.read] });

      expect(result).not.toBeNull();
      const incoming = claimsOf(assertion);
      const issued = claimsOf(result!.accessToken);
      expect(issued).toMatchObject({
        aud: d.apps.downstreamApi.app.clientId,
        azp: d.apps.middleTierApi.app.clientId,
        azpacr: '1',
        oid: d.users.member.id,
        tid: d.tenants.primary.id,
        iss: entra.issuer(d.tenants.primary.id),
        scp: 'Profile.Read',
        ver: '2.0',
      });
      expect(incoming.oid).toBe(issued.oid);
      expect(incoming.tid).toBe(issued.tid);
      // `sub` is pairwise: the same user has a different subject at each API.
      expect(issued.sub).toEqual(expect.any(String));
      expect(issued.sub).not.toBe(incoming.sub);
      expect(headerOf(result!.accessToken)).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: entra.signingKeyIds.at(-1) });

      // client_info and the ID token give msal a real account, which is what keeps users apart in its cache.
      expect(result!.account).toMatchObject({
        homeAccountId: `${d.users.member.id}.${d.tenants.primary.id}`,
        localAccountId: d.users.member.id,
        tenantId: d.tenants.primary.id,
        username: d.users.member.username,
      });
      expect(result!.fromCache).toBe(false);
      expect(result!.scopes).toContain(d.apps.downstreamApi.scopes.read);

      // What msal sent: the On-Behalf-Of request of https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow
      const sent = network.posts.at(-1)!;
      expect(sent.get('grant_type')).toBe(JWT_BEARER_GRANT);
      expect(sent.get('requested_token_use')).toBe('on_behalf_of');
      expect(sent.get('client_info')).toBe('1');
      expect(sent.get('client_id')).toBe(d.apps.middleTierApi.app.clientId);
      // Without a challenge or client capabilities msal sends no claims on token requests.
      expect(sent.get('claims')).toBeNull();
      expect(sent.get('scope')!.split(' ')).toEqual(expect.arrayContaining([d.apps.downstreamApi.scopes.read, 'openid', 'profile', 'offline_access']));

      // With the emulator host in knownAuthorities msal fetches only the tenant's metadata: no instance discovery.
      const endpoints = entra.requests.map((request) => `${request.method} ${request.endpoint} ${request.tenant}`);
      expect(endpoints).toEqual([`GET discovery ${d.tenants.primary.id}`, `POST token ${d.tenants.primary.id}`]);
      expect(entra.tokenRequests({ grantType: JWT_BEARER_GRANT })).toHaveLength(1);
      expect(entra.tokenRequests()[0]).toMatchObject({ clientId: d.apps.middleTierApi.app.clientId, status: 200 });
    });

    it('authenticates with the certificate by SHA-1 thumbprint: an RS256 client assertion with x5t', async () => {
      const d = entra.defaults;
      const { certificate } = d.apps.middleTierApi;
      const { msal, network } = middleTierOnCertificate(entra, 'sha1');

      const result = await msal.acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra, d.users.member), scopes: [d.apps.downstreamApi.scopes.read] });

      const sent = network.posts.at(-1)!;
      expect(sent.get('client_secret')).toBeNull();
      expect(sent.get('client_assertion_type')).toBe(CLIENT_ASSERTION_TYPE);
      const clientAssertion = sent.get('client_assertion')!;
      const header = headerOf(clientAssertion);
      expect(header.alg).toBe('RS256');
      expect(header.x5t).toBe(hexToBase64Url(certificate.thumbprintSha1Hex));
      expect(header['x5t#S256']).toBeUndefined();
      expect(claimsOf(clientAssertion)).toMatchObject({
        aud: `${entra.authority()}/oauth2/v2.0/token`,
        iss: d.apps.middleTierApi.app.clientId,
        sub: d.apps.middleTierApi.app.clientId,
      });
      // azpacr 2: the downstream API can tell the middle tier used a certificate.
      expect(claimsOf(result!.accessToken)).toMatchObject({ aud: d.apps.downstreamApi.app.clientId, azp: d.apps.middleTierApi.app.clientId, azpacr: '2', scp: 'Profile.Read' });
    });

    it('authenticates with the certificate by SHA-256 thumbprint and x5c: a PS256 client assertion with x5t#S256', async () => {
      const d = entra.defaults;
      const { certificate } = d.apps.middleTierApi;
      const { msal, network } = middleTierOnCertificate(entra, 'sha256+x5c');

      const result = await msal.acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra, d.users.member), scopes: [d.apps.downstreamApi.scopes.write] });

      const header = headerOf(network.posts.at(-1)!.get('client_assertion')!);
      expect(header.alg).toBe('PS256');
      expect(header['x5t#S256']).toBe(hexToBase64Url(certificate.thumbprintSha256Hex));
      expect(header.x5t).toBeUndefined();
      expect(header.x5c).toEqual([new X509Certificate(certificate.certificatePem).raw.toString('base64')]);
      expect(claimsOf(result!.accessToken)).toMatchObject({ azpacr: '2', scp: 'Profile.Write', oid: d.users.member.id });
    });

    it('caches per user in msal: two users, two entries; a repeat for the same assertion never reaches Entra', async () => {
      const d = entra.defaults;
      const msal = confidentialClient(entra);
      const aliceToken = await userToken(entra, d.users.member);
      const bobToken = await userToken(entra, d.users.mfaUser, { amr: ['pwd', 'mfa'] });
      const scopes = [d.apps.downstreamApi.scopes.read];
      const before = entra.tokenRequests().length;

      const alice = await msal.acquireTokenOnBehalfOf({ oboAssertion: aliceToken, scopes });
      const bob = await msal.acquireTokenOnBehalfOf({ oboAssertion: bobToken, scopes });
      expect(tokenRequestsSince(entra, before)).toHaveLength(2);

      const accessTokens = Object.values(serializedCache(msal).AccessToken);
      expect(accessTokens).toHaveLength(2);
      expect(new Set(accessTokens.map((entry) => entry.home_account_id))).toEqual(
        new Set([`${d.users.member.id}.${d.tenants.primary.id}`, `${d.users.mfaUser.id}.${d.tenants.primary.id}`]),
      );
      expect(new Set(accessTokens.map((entry) => entry.userAssertionHash)).size).toBe(2);

      const aliceAgain = await msal.acquireTokenOnBehalfOf({ oboAssertion: aliceToken, scopes });
      const bobAgain = await msal.acquireTokenOnBehalfOf({ oboAssertion: bobToken, scopes });
      expect(tokenRequestsSince(entra, before)).toHaveLength(2);
      expect(aliceAgain).toMatchObject({ fromCache: true, accessToken: alice!.accessToken });
      expect(bobAgain).toMatchObject({ fromCache: true, accessToken: bob!.accessToken });
      expect(claimsOf(bobAgain!.accessToken).oid).toBe(d.users.mfaUser.id);
    });

    it('keys msal cache entries by the assertion: a new token of the same user is a miss', async () => {
      const d = entra.defaults;
      const msal = confidentialClient(entra);
      const scopes = [d.apps.downstreamApi.scopes.read];
      await msal.acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra, d.users.member), scopes });
      const before = entra.tokenRequests().length;

      const second = await msal.acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra, d.users.member), scopes });

      expect(second!.fromCache).toBe(false);
      expect(tokenRequestsSince(entra, before)).toHaveLength(1);
    });
  });

  describe('Entra errors, as msal-node surfaces them', () => {
    it('MFA required (Conditional Access): InteractionRequiredAuthError 50076 with a capolids claims challenge, then a token with mfa succeeds', async () => {
      const d = entra.defaults;
      const scopes = [d.apps.downstreamApi.scopes.read];
      const before = entra.tokenRequests().length;

      const error = await oboRejection(await userToken(entra, d.users.mfaUser), scopes);

      expect(error).toBeInstanceOf(InteractionRequiredAuthError);
      const challenge = error as InteractionRequiredAuthError;
      expect(challenge.errorCode).toBe('invalid_grant');
      expect(challenge.subError).toBe('basic_action');
      expect(aadstsOf(challenge)).toBe('50076');
      // msal types errorNo as a string but hands over Entra's JSON number unchanged.
      expect(rawErrorNo(challenge)).toBe(50076);
      expect(challenge.errorMessage).toMatch(/^AADSTS50076: /);
      expect(JSON.parse(challenge.claims)).toEqual({ access_token: { capolids: { essential: true, values: [d.policies.mfaForDownstream.id] } } });
      expect(tokenRequestsSince(entra, before)).toEqual([expect.objectContaining({ grantType: JWT_BEARER_GRANT, status: 400 })]);

      // Signed in with a second factor: Entra knows it from the session behind the token (v2 tokens carry no amr).
      const mfaAssertion = await userToken(entra, d.users.mfaUser, { amr: ['pwd', 'mfa'] });
      expect(claimsOf(mfaAssertion).amr).toBeUndefined();
      const afterMfa = await confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: mfaAssertion, scopes });
      expect(claimsOf(afterMfa!.accessToken)).toMatchObject({ oid: d.users.mfaUser.id, aud: d.apps.downstreamApi.app.clientId });
      expect(claimsOf(afterMfa!.accessToken).amr).toBeUndefined();
    });

    it('an amr claim in the token proves nothing: a password-only sign-in stays password-only, whatever the token says', async () => {
      const d = entra.defaults;
      const scopes = [d.apps.downstreamApi.scopes.read];
      const claimsMfa = await userToken(entra, d.users.mfaUser);
      const forged = await entra.issueAccessToken({
        user: d.users.mfaUser,
        client: d.apps.webApp.app,
        resource: d.apps.middleTierApi.app,
        scopes: ['access_as_user'],
        claims: { amr: ['pwd', 'mfa'] },
      });
      for (const assertion of [claimsMfa, forged]) {
        const error = await oboRejection(assertion, scopes);
        expect(aadstsOf(error)).toBe('50076');
      }
    });

    it('the MFA state travels with the session through a second On-Behalf-Of hop (the downstream token as the next assertion)', async () => {
      const d = entra.defaults;
      // The downstream API calls on as a middle tier in its turn: its token from the first hop is the next assertion.
      entra.directory.grantApiPermission(d.apps.downstreamApi.app.clientId, d.apps.downstreamApi.app.clientId, ['Profile.Read']);
      const secret = entra.directory.addSecret(d.apps.downstreamApi.app.clientId);
      try {
        const first = await confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra, d.users.mfaUser, { amr: ['pwd', 'mfa'] }), scopes: [d.apps.downstreamApi.scopes.read] });
        const second = await confidentialClient(entra, { clientId: d.apps.downstreamApi.app.clientId, credential: { clientSecret: secret } }).acquireTokenOnBehalfOf({
          oboAssertion: first!.accessToken,
          scopes: [d.apps.downstreamApi.scopes.read],
        });
        expect(claimsOf(second!.accessToken)).toMatchObject({ oid: d.users.mfaUser.id, azp: d.apps.downstreamApi.app.clientId });
      } finally {
        entra.directory.removeSecret(d.apps.downstreamApi.app.clientId, secret);
        delete entra.directory.app(d.apps.downstreamApi.app.clientId).apiPermissions[d.apps.downstreamApi.app.clientId];
      }
    });

    it('MFA registration required: InteractionRequiredAuthError 50079 with claims', async () => {
      const d = entra.defaults;
      const policy = entra.policies.requireMfaRegistration({ resource: d.apps.downstreamApi.app.clientId, users: [d.users.member.id] });

      const error = await rejectionOf(
        confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra, d.users.member), scopes: [d.apps.downstreamApi.scopes.read] }),
      );

      expect(error).toBeInstanceOf(InteractionRequiredAuthError);
      expect(error.errorCode).toBe('interaction_required');
      expect(aadstsOf(error)).toBe('50079');
      // MFA enrolment names its policies in polids, not capolids.
      expect(JSON.parse((error as InteractionRequiredAuthError).claims)).toEqual({ access_token: { polids: { essential: true, values: [policy.id] } } });
    });

    it('blocked by Conditional Access: a plain ServerError 53003, nothing to satisfy interactively', async () => {
      const d = entra.defaults;
      entra.policies.blockAccess({ resource: d.apps.downstreamApi.app.clientId });

      const error = await rejectionOf(
        confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra, d.users.member), scopes: [d.apps.downstreamApi.scopes.read] }),
      );

      expect(error).toBeInstanceOf(ServerError);
      expect(error).not.toBeInstanceOf(InteractionRequiredAuthError);
      expect(error.errorCode).toBe('invalid_grant');
      expect(aadstsOf(error)).toBe('53003');
      expect(error.subError).toBe('');
      expect(error.errorMessage).toContain('AADSTS53003');
    });

    it('consent missing: InteractionRequiredAuthError 65001 with suberror consent_required', async () => {
      const d = entra.defaults;
      entra.policies.denyConsent({ client: d.apps.middleTierApi.app.clientId, resource: d.apps.downstreamApi.app.clientId });

      const error = await rejectionOf(
        confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra, d.users.member), scopes: [d.apps.downstreamApi.scopes.read] }),
      );

      expect(error).toBeInstanceOf(InteractionRequiredAuthError);
      expect(error.errorCode).toBe('invalid_grant');
      expect(error.subError).toBe('consent_required');
      expect(aadstsOf(error)).toBe('65001');
    });

    it('an assertion issued for another app: 500131', async () => {
      const d = entra.defaults;
      const forDownstream = await entra.issueAccessToken({ user: d.users.member, client: d.apps.webApp.app, resource: d.apps.downstreamApi.app, scopes: ['Profile.Read'] });

      const error = await oboRejection(forDownstream);

      expect(error).toBeInstanceOf(ServerError);
      expect(error).not.toBeInstanceOf(InteractionRequiredAuthError);
      expect(error.errorCode).toBe('invalid_grant');
      expect(aadstsOf(error)).toBe('500131');
    });

    it.each([
      [
        'an expired assertion',
        'invalid_grant',
        '500133',
        async () => {
          const assertion = await userToken(entra, entra.defaults.users.member);
          entra.clock.advanceSec(3600 + 60);
          return assertion;
        },
      ],
      [
        'an assertion signed by a key Entra never published (real kid, forged signature)',
        'invalid_grant',
        '50013',
        async () => {
          const genuine = await userToken(entra, entra.defaults.users.member);
          const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
          const forged = await new SignJWT(claimsOf(genuine)).setProtectedHeader({ ...headerOf(genuine), alg: 'RS256' }).sign(createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })));
          expect(headerOf(forged).kid).toBe(entra.signingKeyIds.at(-1));
          return forged;
        },
      ],
      ['an ID token as the assertion', 'invalid_request', '240002', () => entra.issueIdToken({ user: entra.defaults.users.member, client: entra.defaults.apps.middleTierApi.app })],
    ] as const)('%s: %s, AADSTS%s', async (_case, errorCode, aadsts, assertion) => {
      const error = await oboRejection(await assertion());

      expect(error).toBeInstanceOf(ServerError);
      expect(error.errorCode).toBe(errorCode);
      expect(aadstsOf(error)).toBe(aadsts);
    });

    it('an assertion signed by a key that was retired since: 50013', async () => {
      const d = entra.defaults;
      const signedByOldKey = await userToken(entra, d.users.member);
      await entra.rotateSigningKeys({ retirePrevious: true });

      const error = await oboRejection(signedByOldKey);
      expect(aadstsOf(error)).toBe('50013');

      // Tokens signed by the new key exchange normally.
      const fresh = await confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra, d.users.member), scopes: [d.apps.downstreamApi.scopes.read] });
      expect(headerOf(fresh!.accessToken).kid).toBe(entra.signingKeyIds.at(-1));
    });

    it('an app-only token as the assertion is refused: OBO needs a user', async () => {
      const d = entra.defaults;
      const appOnly = await entra.issueAccessToken({ client: d.apps.daemon.app, resource: d.apps.middleTierApi.app, roles: ['Tasks.Read.All'] });
      const before = entra.tokenRequests().length;

      const error = await oboRejection(appOnly);

      expect(error).toBeInstanceOf(ServerError);
      expect(error).not.toBeInstanceOf(InteractionRequiredAuthError);
      // Entra has answered this with invalid_grant (AADSTS90083) and unauthorized_client (AADSTS7000114) over the years.
      expect(['invalid_grant', 'unauthorized_client']).toContain(error.errorCode);
      expect(tokenRequestsSince(entra, before)).toEqual([expect.objectContaining({ status: 400 })]);
    });

    it('a wrong client secret: invalid_client 7000215 (HTTP 401)', async () => {
      const d = entra.defaults;
      const before = entra.tokenRequests().length;

      const error = await rejectionOf(
        confidentialClient(entra, { credential: { clientSecret: 'not-the-secret' } }).acquireTokenOnBehalfOf({
          oboAssertion: await userToken(entra, d.users.member),
          scopes: [d.apps.downstreamApi.scopes.read],
        }),
      );

      expect(error).toBeInstanceOf(ServerError);
      expect(error.errorCode).toBe('invalid_client');
      expect(aadstsOf(error)).toBe('7000215');
      expect(tokenRequestsSince(entra, before)).toEqual([expect.objectContaining({ status: 401 })]);
    });

    it('an unknown client id: unauthorized_client 700016', async () => {
      const d = entra.defaults;

      const error = await rejectionOf(
        confidentialClient(entra, { clientId: '5f0b2a3c-0000-4000-8000-000000000001', credential: { clientSecret: d.apps.middleTierApi.clientSecret } }).acquireTokenOnBehalfOf({
          oboAssertion: await userToken(entra, d.users.member),
          scopes: [d.apps.downstreamApi.scopes.read],
        }),
      );

      expect(error).toBeInstanceOf(ServerError);
      expect(error.errorCode).toBe('unauthorized_client');
      expect(aadstsOf(error)).toBe('700016');
    });

    it('a scope the downstream API does not expose: invalid_scope 70011', async () => {
      const d = entra.defaults;

      const error = await rejectionOf(
        confidentialClient(entra).acquireTokenOnBehalfOf({
          oboAssertion: await userToken(entra, d.users.member),
          scopes: [`${d.apps.downstreamApi.app.identifierUris[0]}/Profile.Delete`],
        }),
      );

      expect(error).toBeInstanceOf(ServerError);
      expect(error.errorCode).toBe('invalid_scope');
      expect(aadstsOf(error)).toBe('70011');
    });
  });

  describe("guests and other tenants: OBO at the caller's tenant", () => {
    /** The user's token, and one exchange of it at the authority of its own `tid`, with the requests it made. */
    async function oboAtCallersTenant(user: Parameters<typeof userToken>[1]) {
      const assertion = await userToken(entra, user);
      const incoming = claimsOf(assertion);
      const before = entra.tokenRequests().length;
      const result = await confidentialClient(entra, { tenant: incoming.tid }).acquireTokenOnBehalfOf({ oboAssertion: assertion, scopes: [entra.defaults.apps.downstreamApi.scopes.read] });
      return { incoming, result, requests: tokenRequestsSince(entra, before) };
    }

    it("a B2B guest: the token's tid is the resource tenant, idp names the home tenant, and OBO there keeps them", async () => {
      const d = entra.defaults;
      const { incoming, result, requests } = await oboAtCallersTenant(d.users.guest);
      // acct is an optional claim the middle tier did not configure.
      expect(incoming).toMatchObject({ tid: d.tenants.primary.id, oid: d.users.guest.id, idp: `https://sts.windows.net/${d.tenants.secondary.id}/` });
      expect(incoming.acct).toBeUndefined();

      expect(claimsOf(result!.accessToken)).toMatchObject({
        tid: d.tenants.primary.id,
        oid: d.users.guest.id,
        iss: entra.issuer(d.tenants.primary.id),
        idp: incoming.idp,
        aud: d.apps.downstreamApi.app.clientId,
      });
      expect(result!.account?.homeAccountId).toBe(`${d.users.guest.id}.${d.tenants.primary.id}`);
      expect(requests).toEqual([expect.objectContaining({ tenant: d.tenants.primary.id, grantType: JWT_BEARER_GRANT, status: 200 })]);
    });

    it("a member of the second tenant: OBO at that tenant's authority issues a token in that tenant", async () => {
      const d = entra.defaults;
      const { incoming, result, requests } = await oboAtCallersTenant(d.users.secondTenantMember);
      expect(incoming.tid).toBe(d.tenants.secondary.id);
      expect(incoming.acct).toBeUndefined();

      expect(claimsOf(result!.accessToken)).toMatchObject({
        tid: d.tenants.secondary.id,
        oid: d.users.secondTenantMember.id,
        iss: entra.issuer(d.tenants.secondary.id),
        azp: d.apps.middleTierApi.app.clientId,
      });
      expect(result!.tenantId).toBe(d.tenants.secondary.id);
      expect(requests).toEqual([expect.objectContaining({ tenant: d.tenants.secondary.id, grantType: JWT_BEARER_GRANT, status: 200 })]);
    });

    it("the second tenant's token presented at the home tenant's authority is refused", async () => {
      const d = entra.defaults;
      const assertion = await userToken(entra, d.users.secondTenantMember);

      const error = await rejectionOf(
        confidentialClient(entra, { tenant: d.tenants.primary.id }).acquireTokenOnBehalfOf({ oboAssertion: assertion, scopes: [d.apps.downstreamApi.scopes.read] }),
      );

      expect(error).toBeInstanceOf(ServerError);
      expect(error.errorCode).toBe('invalid_grant');
    });
  });
});
