// A resource server's view: jose, fetching the emulator's published keys through its discovery documents, must verify
// every kind of token the emulator issues (minted directly and obtained through real grants), with issuer and audience
// pinned, and must follow a signing-key rotation the way it follows Entra's.
import { createHash, X509Certificate } from 'node:crypto';
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { JWT_BEARER_GRANT } from '../../src/testing/index.js';
import { useEmulator } from '../support/emulator.js';
import { authorizeUrl, pkcePair, requestTokens } from './entra-http-kit.js';

interface JsonWebKeyEntry {
  kty: string;
  use: string;
  kid: string;
  x5t: string;
  n: string;
  e: string;
  x5c: string[];
  issuer?: string;
}

describe('jose verifies what the emulator issues', () => {
  const entra = useEmulator();

  /** The `jwks_uri` a resource server would find, by reading the tenant's discovery document of that version. */
  async function jwksUri(tenantId: string, version: 1 | 2): Promise<string> {
    const path = version === 2 ? 'v2.0/.well-known/openid-configuration' : '.well-known/openid-configuration';
    const response = await entra.fetch(`${entra.authorityHost}/${tenantId}/${path}`);
    expect(response.status).toBe(200);
    const { jwks_uri: uri } = (await response.json()) as { jwks_uri: string };
    return uri;
  }

  async function keysAt(uri: string): Promise<JsonWebKeyEntry[]> {
    const response = await entra.fetch(uri);
    expect(response.status).toBe(200);
    return ((await response.json()) as { keys: JsonWebKeyEntry[] }).keys;
  }

  /**
   * Verifies as an API would: keys from discovery (a fresh JWKS each time, so a rotation is seen at once), RS256 only,
   * `typ` JWT, issuer and audience pinned.
   */
  async function verify(token: string, expected: { tenantId: string; audience: string; version?: 1 | 2 }): Promise<JWTPayload> {
    const version = expected.version ?? 2;
    const keys = createRemoteJWKSet(new URL(await jwksUri(expected.tenantId, version)), { [customFetch]: entra.fetch });
    const { payload } = await jwtVerify(token, keys, {
      issuer: entra.issuer(expected.tenantId, version),
      audience: expected.audience,
      algorithms: ['RS256'],
      typ: 'JWT',
    });
    return payload;
  }

  /**
   * Entra's header: `typ` JWT, `alg` RS256 and `kid`; v1 tokens name the certificate a second time in `x5t`, v2
   * tokens do not (access-token-claims-reference, "Header claims").
   */
  function expectEntraHeader(token: string, version: 1 | 2 = 2): void {
    const header = decodeProtectedHeader(token);
    expect(Object.keys(header)).toEqual(version === 2 ? ['typ', 'alg', 'kid'] : ['typ', 'alg', 'x5t', 'kid']);
    expect(header).toMatchObject({ typ: 'JWT', alg: 'RS256' });
    expect(header.kid).toEqual(expect.any(String));
    if (version === 1) expect(header.x5t).toBe(header.kid);
    expect(entra.signingKeyIds).toContain(header.kid);
  }

  describe('the published keys', () => {
    it('have kty, use, kid, x5t, n, e and a certificate in x5c whose key and thumbprint match', async () => {
      const tid = entra.defaults.tenants.primary.id;
      for (const version of [1, 2] as const) {
        const keys = await keysAt(await jwksUri(tid, version));
        expect(keys.map((key) => key.kid)).toEqual(entra.signingKeyIds);
        for (const key of keys) {
          expect(key).toMatchObject({ kty: 'RSA', use: 'sig' });
          expect(key.x5t).toBe(key.kid);
          expect(key.n).toMatch(/^[A-Za-z0-9_-]{300,}$/);
          expect(key.e).toBe('AQAB');
          expect(key.x5c).toHaveLength(1);
          const der = Buffer.from(key.x5c[0]!, 'base64');
          // x5t is the base64url SHA-1 thumbprint of the DER certificate, and the certificate carries the same key.
          expect(createHash('sha1').update(der).digest('base64url')).toBe(key.x5t);
          const certificateKey = new X509Certificate(der).publicKey.export({ format: 'jwk' });
          expect({ n: certificateKey.n, e: certificateKey.e }).toEqual({ n: key.n, e: key.e });
        }
      }
    });

    it('carry an issuer on the v2 endpoint (for key-issuer validation) and none on the v1 endpoint', async () => {
      const tid = entra.defaults.tenants.primary.id;
      const v2 = await keysAt(await jwksUri(tid, 2));
      for (const key of v2) {
        // Key-issuer validation substitutes the token's tid into the key's issuer and compares it with the token's iss.
        expect(key.issuer?.replace('{tenantid}', tid)).toBe(entra.issuer(tid));
      }
      const common = await keysAt(`${entra.authorityHost}/common/discovery/v2.0/keys`);
      for (const key of common) expect(key.issuer).toBe(`${entra.authorityHost}/{tenantid}/v2.0`);

      const v1 = await keysAt(await jwksUri(tid, 1));
      expect(v1.length).toBeGreaterThan(0);
      for (const key of v1) expect(key.issuer).toBeUndefined();
    });
  });

  describe('minted tokens', () => {
    it('a v2 user access token', async () => {
      const d = entra.defaults;
      const token = await entra.issueAccessToken({ user: d.users.member, client: d.apps.webApp.app, resource: d.apps.middleTierApi.app });
      expectEntraHeader(token);
      const claims = await verify(token, { tenantId: d.tenants.primary.id, audience: d.apps.middleTierApi.app.clientId });
      expect(claims).toMatchObject({
        ver: '2.0',
        tid: d.tenants.primary.id,
        oid: d.users.member.id,
        preferred_username: d.users.member.username,
        azp: d.apps.webApp.app.clientId,
        scp: 'access_as_user',
      });
    });

    it('a v1 user access token: sts.windows.net issuer, App ID URI audience, keys from the v1 endpoint', async () => {
      const d = entra.defaults;
      const token = await entra.issueAccessToken({ user: d.users.member, client: d.apps.webApp.app, resource: d.apps.middleTierApi.app, version: 1 });
      expectEntraHeader(token, 1);
      const appIdUri = d.apps.middleTierApi.app.identifierUris[0]!;
      expect(appIdUri).toBe(`api://${d.apps.middleTierApi.app.clientId}`);
      const claims = await verify(token, { tenantId: d.tenants.primary.id, audience: appIdUri, version: 1 });
      expect(claims).toMatchObject({
        iss: `https://sts.windows.net/${d.tenants.primary.id}/`,
        ver: '1.0',
        appid: d.apps.webApp.app.clientId,
        upn: d.users.member.username,
        scp: 'access_as_user',
      });
      expect(claims.azp).toBeUndefined();
      // A v1 token is not a v2 token: the v2 issuer rejects it.
      await expect(verify(token, { tenantId: d.tenants.primary.id, audience: appIdUri, version: 2 })).rejects.toThrow(errors.JWTClaimValidationFailed);
    });

    it('an app-only token', async () => {
      const d = entra.defaults;
      const token = await entra.issueAccessToken({ client: d.apps.daemon.app, resource: d.apps.downstreamApi.app, roles: ['Directory.Read.All'] });
      expectEntraHeader(token);
      const claims = await verify(token, { tenantId: d.tenants.primary.id, audience: d.apps.downstreamApi.app.clientId });
      // idtyp is an optional claim the downstream API did not configure: an app token is known by no scp and oid = sub.
      expect(claims).toMatchObject({ roles: ['Directory.Read.All'], azp: d.apps.daemon.app.clientId });
      expect(claims.idtyp).toBeUndefined();
      expect(claims.sub).toBe(claims.oid);
      expect(claims.scp).toBeUndefined();
    });

    it('an ID token, whose audience is the client that signed the user in', async () => {
      const d = entra.defaults;
      const token = await entra.issueIdToken({ user: d.users.member, client: d.apps.webApp.app, nonce: 'n-0S6_WzA2Mj' });
      expectEntraHeader(token);
      const claims = await verify(token, { tenantId: d.tenants.primary.id, audience: d.apps.webApp.app.clientId });
      expect(claims).toMatchObject({ nonce: 'n-0S6_WzA2Mj', oid: d.users.member.id, tid: d.tenants.primary.id });
      expect(claims.scp).toBeUndefined();
    });

    it("a guest's token verifies at the resource tenant, and a member of another tenant's only at theirs", async () => {
      const d = entra.defaults;
      const guestToken = await entra.issueAccessToken({ user: d.users.guest, client: d.apps.webApp.app, resource: d.apps.middleTierApi.app });
      const guest = await verify(guestToken, { tenantId: d.tenants.primary.id, audience: d.apps.middleTierApi.app.clientId });
      expect(guest).toMatchObject({ tid: d.tenants.primary.id, oid: d.users.guest.id, idp: `https://sts.windows.net/${d.tenants.secondary.id}/` });

      const daveToken = await entra.issueAccessToken({ user: d.users.secondTenantMember, client: d.apps.webApp.app, resource: d.apps.middleTierApi.app });
      await expect(verify(daveToken, { tenantId: d.tenants.secondary.id, audience: d.apps.middleTierApi.app.clientId })).resolves.toMatchObject({ tid: d.tenants.secondary.id });
      await expect(verify(daveToken, { tenantId: d.tenants.primary.id, audience: d.apps.middleTierApi.app.clientId })).rejects.toThrow(errors.JWTClaimValidationFailed);
    });

    it('fails for the wrong audience and for a tampered payload', async () => {
      const d = entra.defaults;
      const token = await entra.issueAccessToken({ user: d.users.member, client: d.apps.webApp.app, resource: d.apps.middleTierApi.app });
      await expect(verify(token, { tenantId: d.tenants.primary.id, audience: d.apps.downstreamApi.app.clientId })).rejects.toThrow(errors.JWTClaimValidationFailed);

      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as JWTPayload;
      const tampered = [header, Buffer.from(JSON.stringify({ ...claims, scp: 'access_as_user admin' })).toString('base64url'), signature].join('.');
      await expect(verify(tampered, { tenantId: d.tenants.primary.id, audience: d.apps.middleTierApi.app.clientId })).rejects.toThrow(errors.JWSSignatureVerificationFailed);
    });
  });

  describe('tokens from real grants (plain form posts to the token endpoint)', () => {
    it('authorization code, refresh, On-Behalf-Of and client credentials all yield tokens that verify', async () => {
      const d = entra.defaults;
      const tid = d.tenants.primary.id;
      const middleTier = d.apps.middleTierApi.app.clientId;

      // Authorization code + PKCE: the web app signs Alice in through the sign-in page.
      const { verifier, challenge } = pkcePair();
      const redirect = await entra.signIn(
        authorizeUrl(entra, tid, {
          client_id: d.apps.webApp.app.clientId,
          response_type: 'code',
          redirect_uri: d.apps.webApp.redirectUri,
          scope: `openid profile offline_access ${d.apps.middleTierApi.scope}`,
          code_challenge: challenge,
          code_challenge_method: 'S256',
          state: 'grants',
          nonce: 'nonce-grants',
        }),
        { username: d.users.member.username },
      );
      expect(redirect.searchParams.get('state')).toBe('grants');
      const signedIn = await requestTokens(entra, tid, {
        grant_type: 'authorization_code',
        client_id: d.apps.webApp.app.clientId,
        client_secret: d.apps.webApp.clientSecret,
        code: redirect.searchParams.get('code')!,
        redirect_uri: d.apps.webApp.redirectUri,
        code_verifier: verifier,
        scope: `openid profile offline_access ${d.apps.middleTierApi.scope}`,
      });
      expectEntraHeader(signedIn.access_token);
      expect(await verify(signedIn.access_token, { tenantId: tid, audience: middleTier })).toMatchObject({ oid: d.users.member.id, scp: 'access_as_user' });
      expect(await verify(signedIn.id_token!, { tenantId: tid, audience: d.apps.webApp.app.clientId })).toMatchObject({ nonce: 'nonce-grants', oid: d.users.member.id });

      // Refresh.
      const refreshed = await requestTokens(entra, tid, {
        grant_type: 'refresh_token',
        client_id: d.apps.webApp.app.clientId,
        client_secret: d.apps.webApp.clientSecret,
        refresh_token: signedIn.refresh_token!,
        scope: `openid offline_access ${d.apps.middleTierApi.scope}`,
      });
      expect(await verify(refreshed.access_token, { tenantId: tid, audience: middleTier })).toMatchObject({ oid: d.users.member.id });
      expect(await verify(refreshed.id_token!, { tenantId: tid, audience: d.apps.webApp.app.clientId })).toMatchObject({ oid: d.users.member.id });

      // On-Behalf-Of: the middle tier exchanges Alice's token for the downstream API.
      const obo = await requestTokens(entra, tid, {
        grant_type: JWT_BEARER_GRANT,
        client_id: middleTier,
        client_secret: d.apps.middleTierApi.clientSecret,
        assertion: signedIn.access_token,
        requested_token_use: 'on_behalf_of',
        scope: d.apps.downstreamApi.scopes.read,
      });
      expectEntraHeader(obo.access_token);
      expect(await verify(obo.access_token, { tenantId: tid, audience: d.apps.downstreamApi.app.clientId })).toMatchObject({
        oid: d.users.member.id,
        azp: middleTier,
        scp: 'Profile.Read',
      });

      // Client credentials: the daemon, as itself.
      const app = await requestTokens(entra, tid, {
        grant_type: 'client_credentials',
        client_id: d.apps.daemon.app.clientId,
        client_secret: d.apps.daemon.clientSecret,
        scope: d.apps.downstreamApi.defaultScope,
      });
      expectEntraHeader(app.access_token);
      const appClaims = await verify(app.access_token, { tenantId: tid, audience: d.apps.downstreamApi.app.clientId });
      expect(appClaims).toMatchObject({ roles: ['Directory.Read.All'] });
      expect(appClaims.oid).toBe(appClaims.sub);
    });
  });

  describe('signing-key rotation', () => {
    // Runs last in this file: it changes which key signs.
    it('new tokens carry the new kid, old ones verify until their key is retired, then only the new ones do', async () => {
      const d = entra.defaults;
      const expected = { tenantId: d.tenants.primary.id, audience: d.apps.middleTierApi.app.clientId };
      const mint = () => entra.issueAccessToken({ user: d.users.member, client: d.apps.webApp.app, resource: d.apps.middleTierApi.app });

      // Entra publishes several keys at once; the emulator starts with two, the last of which signs.
      const [older] = entra.signingKeyIds;
      expect(entra.signingKeyIds).toHaveLength(2);
      const before = await mint();
      const { kid, previousKid } = await entra.rotateSigningKeys();
      const after = await mint();

      expect(kid).not.toBe(previousKid);
      expect(decodeProtectedHeader(before).kid).toBe(previousKid);
      expect(decodeProtectedHeader(after)).toMatchObject({ kid });
      expect(entra.signingKeyIds).toEqual([older, previousKid, kid]);
      expect((await keysAt(await jwksUri(expected.tenantId, 2))).map((key) => key.kid)).toEqual([older, previousKid, kid]);

      // Both keys are published: both tokens verify.
      await expect(verify(before, expected)).resolves.toMatchObject({ oid: d.users.member.id });
      await expect(verify(after, expected)).resolves.toMatchObject({ oid: d.users.member.id });

      entra.retireSigningKey(previousKid);
      expect(entra.signingKeyIds).toEqual([older, kid]);
      expect((await keysAt(await jwksUri(expected.tenantId, 1))).map((key) => key.kid)).toEqual([older, kid]);

      // A fresh JWKS no longer has the retired key: the old token fails, the new one still verifies.
      await expect(verify(before, expected)).rejects.toThrow(errors.JWKSNoMatchingKey);
      await expect(verify(after, expected)).resolves.toMatchObject({ oid: d.users.member.id });
      expect(() => entra.retireSigningKey(kid)).toThrow(/active signing key cannot be retired/);
    });
  });
});
