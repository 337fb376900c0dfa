// How closely the emulator follows Entra where tests most often pass locally and fail in production (or the reverse):
// Microsoft Graph as a downstream API, scope case, PKCE and public clients, hybrid sign-in, optional claims, token
// lifetimes, discovery, keys and response headers. Real msal-node and openid-client, nothing but configuration.
import { randomUUID } from 'node:crypto';
import { CryptoProvider, PublicClientApplication } from '@azure/msal-node';
import { createRemoteJWKSet, customFetch as joseFetch, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import {
  authorizationCodeGrant,
  buildAuthorizationUrl,
  calculatePKCECodeChallenge,
  ClientSecretPost,
  customFetch,
  discovery,
  fetchUserInfo,
  randomNonce,
  randomPKCECodeVerifier,
  randomState,
  useCodeIdTokenResponseType,
  type Configuration,
  type CustomFetch,
} from 'openid-client';
import { JWT_BEARER_GRANT, CONSUMERS_TENANT_ID, MICROSOFT_GRAPH_APP_ID, type EmulatorApp } from '../../src/testing/index.js';
import { userToken, useEmulator } from '../support/emulator.js';
import { authorizeUrl, pkcePair, postForm, requestTokens, tokenEndpoint, type EntraErrorBody } from './entra-http-kit.js';
import { aadstsOf, claimsOf, confidentialClient, rejectionOf } from './msal-test-kit.js';

const pkce = new CryptoProvider();
const REDIRECT_URI = 'http://localhost:3000/auth/callback';

describe('emulator fidelity: where Entra differs from a naive identity provider', () => {
  const entra = useEmulator();

  function graphMe(token: string | undefined): Promise<Response> {
    return entra.fetch(`${entra.graphBaseUrl}/v1.0/me`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  }

  const pinnedFetch: CustomFetch = (url, options) => entra.fetch(url, options as RequestInit);

  describe('Microsoft Graph, the most common On-Behalf-Of downstream', () => {
    // Microsoft's own on-behalf-of sample (ms-identity-javascript-tutorial, 4-AdvancedGrants/1-call-api-graph) asks
    // for `user.read`; scope names are case-insensitive in Entra.
    it.each(['User.Read', 'user.read', 'https://graph.microsoft.com/User.Read'])('OBO for %s: a v1 Graph token with a header nonce, accepted by the Graph stand-in', async (scope) => {
      const d = entra.defaults;
      const result = await confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra), scopes: [scope] });

      const claims = claimsOf(result!.accessToken);
      expect(claims).toMatchObject({
        aud: 'https://graph.microsoft.com',
        iss: `https://sts.windows.net/${d.tenants.primary.id}/`,
        ver: '1.0',
        scp: 'User.Read',
        oid: d.users.member.id,
        appid: d.apps.middleTierApi.app.clientId,
        amr: ['pwd'],
      });
      // Entra answers Graph scopes bare, whatever case or prefix the client used.
      expect(result!.scopes).toEqual(expect.arrayContaining(['User.Read']));
      expect(Object.keys(decodeProtectedHeader(result!.accessToken))).toEqual(['typ', 'nonce', 'alg', 'x5t', 'kid']);

      const me = await graphMe(result!.accessToken);
      expect(me.status).toBe(200);
      expect(await me.json()).toEqual({
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
        id: d.users.member.id,
        displayName: d.users.member.displayName,
        userPrincipalName: d.users.member.username,
        mail: d.users.member.username,
      });
      expect(me.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    // Graph's tokens are signed over the SHA-256 of the header nonce, so standard validation fails by design: an API
    // must never accept a token for Graph (https://github.com/AzureAD/azure-activedirectory-identitymodel-extensions-for-dotnet/issues/609).
    it('a Graph token does not validate with the published keys, as on the real service', async () => {
      const d = entra.defaults;
      const result = await confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra), scopes: ['User.Read'] });
      const keys = createRemoteJWKSet(new URL(`${entra.authorityHost}/${d.tenants.primary.id}/discovery/keys`), { [joseFetch]: entra.fetch });
      await expect(jwtVerify(result!.accessToken, keys, { algorithms: ['RS256'] })).rejects.toThrow(errors.JWSSignatureVerificationFailed);
    });

    it('asked by app id, the Graph token is for the app id', async () => {
      const result = await confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra), scopes: [`${MICROSOFT_GRAPH_APP_ID}/User.Read`] });
      expect(claimsOf(result!.accessToken).aud).toBe(MICROSOFT_GRAPH_APP_ID);
      expect((await graphMe(result!.accessToken)).status).toBe(200);
    });

    it('a Graph scope the middle tier holds no permission for: consent_required 65001', async () => {
      const error = await rejectionOf(confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra), scopes: ['Mail.Read'] }));
      expect(aadstsOf(error)).toBe('65001');
    });

    it("the Graph stand-in refuses what Graph refuses, in Graph's error shape", async () => {
      const d = entra.defaults;
      const expectGraphError = async (response: Response, status: number, code: string) => {
        expect(response.status).toBe(status);
        const body = (await response.json()) as { error: { code: string; message: string; innerError: Record<string, string> } };
        expect(body.error.code).toBe(code);
        expect(body.error.message).toEqual(expect.any(String));
        expect(body.error.innerError).toEqual({ date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/), 'request-id': response.headers.get('request-id'), 'client-request-id': expect.any(String) });
      };
      const noToken = await graphMe(undefined);
      expect(noToken.headers.get('www-authenticate')).toMatch(/^Bearer realm="", authorization_uri="[^"]+\/common\/oauth2\/authorize", client_id="00000003-0000-0000-c000-000000000000"$/);
      await expectGraphError(noToken, 401, 'InvalidAuthenticationToken');
      // A token for another API, and a Graph token past its expiry.
      await expectGraphError(await graphMe(await userToken(entra)), 401, 'InvalidAuthenticationToken');
      const expired = await entra.issueAccessToken({ user: d.users.member, client: d.apps.middleTierApi.app, resource: entra.directory.microsoftGraph, scopes: ['User.Read'], lifetimeSec: 60 });
      entra.clock.advanceSec(120);
      try {
        await expectGraphError(await graphMe(expired), 401, 'InvalidAuthenticationToken');
      } finally {
        entra.clock.reset();
      }
      // Delegated, but without a permission that reads the profile.
      const mailOnly = await entra.issueAccessToken({ user: d.users.member, client: d.apps.middleTierApi.app, resource: entra.directory.microsoftGraph, scopes: ['Mail.Read'] });
      await expectGraphError(await graphMe(mailOnly), 403, 'Authorization_RequestDenied');
    });

    it('client credentials for Graph: an app token with the granted role, which /me refuses (no signed-in user)', async () => {
      const d = entra.defaults;
      entra.directory.grantAppPermission(d.apps.daemon.app.clientId, MICROSOFT_GRAPH_APP_ID, ['User.Read.All']);
      const msal = confidentialClient(entra, { clientId: d.apps.daemon.app.clientId, credential: { clientSecret: d.apps.daemon.clientSecret } });
      const result = await msal.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
      const claims = claimsOf(result!.accessToken);
      expect(claims).toMatchObject({ aud: 'https://graph.microsoft.com', roles: ['User.Read.All'], ver: '1.0' });
      expect(claims.oid).toBe(claims.sub);
      const me = await graphMe(result!.accessToken);
      expect(me.status).toBe(400);
      expect(((await me.json()) as { error: { code: string } }).error.code).toBe('BadRequest');
    });
  });

  describe('scope names are case-insensitive', () => {
    it('in On-Behalf-Of, client credentials and the authorize request', async () => {
      const d = entra.defaults;
      const upper = d.apps.downstreamApi.scopes.read.replace('Profile.Read', 'PROFILE.READ');
      const obo = await confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra), scopes: [upper] });
      expect(claimsOf(obo!.accessToken).scp).toBe('Profile.Read');

      const daemon = confidentialClient(entra, { clientId: d.apps.daemon.app.clientId, credential: { clientSecret: d.apps.daemon.clientSecret } });
      const app = await daemon.acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope.replace('.default', '.DEFAULT')] });
      expect(claimsOf(app!.accessToken).roles).toEqual(['Directory.Read.All']);

      const redirect = await entra.signIn(
        authorizeUrl(entra, d.tenants.primary.id, { client_id: d.apps.webApp.app.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: `openid ${d.apps.middleTierApi.scope.toUpperCase().replace('API://', 'api://')}` }),
        { username: d.users.member.username },
      );
      expect(redirect.searchParams.get('code')).toEqual(expect.any(String));
    });
  });

  describe('PKCE and client types', () => {
    it('a confidential web app signs a user in without PKCE (msal-node, no code challenge or verifier)', async () => {
      const d = entra.defaults;
      const msal = confidentialClient(entra, { clientId: d.apps.webApp.app.clientId, credential: { clientSecret: d.apps.webApp.clientSecret } });
      const nonce = randomUUID();
      const url = await msal.getAuthCodeUrl({ scopes: [d.apps.middleTierApi.scope], redirectUri: REDIRECT_URI, nonce });
      expect(new URL(url).searchParams.has('code_challenge')).toBe(false);
      const redirect = await entra.signIn(url, { username: d.users.member.username });

      const result = await msal.acquireTokenByCode({ code: redirect.searchParams.get('code')!, redirectUri: REDIRECT_URI, scopes: [d.apps.middleTierApi.scope], nonce });

      expect(claimsOf(result.accessToken)).toMatchObject({ aud: d.apps.middleTierApi.app.clientId, oid: d.users.member.id });
      // msal reads x-ms-request-id into requestId: it ties a result to Entra's logs.
      expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.requestId).toBe(entra.tokenRequests().at(-1)!.requestId);
    });

    it("PKCE with the plain method (openid-client), and a plain verifier that does not match is refused (AADSTS501481)", async () => {
      const d = entra.defaults;
      const config = await discovery(new URL(entra.issuer(d.tenants.primary.id)), d.apps.webApp.app.clientId, d.apps.webApp.clientSecret, ClientSecretPost(d.apps.webApp.clientSecret), { [customFetch]: pinnedFetch });
      const signIn = async () => {
        const verifier = randomPKCECodeVerifier();
        const state = randomState();
        const url = buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: `openid ${d.apps.middleTierApi.scope}`, code_challenge: verifier, code_challenge_method: 'plain', state });
        return { verifier, state, callback: await entra.signIn(url.href, { username: d.users.member.username }) };
      };
      const good = await signIn();
      const tokens = await authorizationCodeGrant(config, good.callback, { pkceCodeVerifier: good.verifier, expectedState: good.state });
      expect(decodeJwt(tokens.access_token).oid).toBe(d.users.member.id);

      const bad = await signIn();
      await expect(authorizationCodeGrant(config, bad.callback, { pkceCodeVerifier: randomPKCECodeVerifier(), expectedState: bad.state })).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    describe('registrations of their own', () => {
      let spa: EmulatorApp;
      let desktop: EmulatorApp;

      // Registered before each test: the emulator is reset after each.
      beforeEach(() => {
        const d = entra.defaults;
        spa = entra.directory.addApp({ displayName: 'Contoso SPA', tenantId: d.tenants.primary.id, spaRedirectUris: ['http://localhost/spa'], apiPermissions: { [d.apps.middleTierApi.app.clientId]: ['access_as_user'] } });
        desktop = entra.directory.addApp({
          displayName: 'Contoso Desktop',
          tenantId: d.tenants.primary.id,
          isFallbackPublicClient: true,
          redirectUris: ['http://localhost'],
          apiPermissions: { [d.apps.middleTierApi.app.clientId]: ['access_as_user'] },
        });
      });

      it('a SPA redirect URI requires PKCE (AADSTS9002325), and its code is redeemed with no credential', async () => {
        const d = entra.defaults;
        const base = { client_id: spa.clientId, response_type: 'code', redirect_uri: 'http://localhost:5173/spa', scope: `openid ${d.apps.middleTierApi.scope}` };
        const refused = await entra.fetch(authorizeUrl(entra, d.tenants.primary.id, base), { redirect: 'manual' });
        expect(refused.status).toBe(302);
        expect(new URL(refused.headers.get('location')!).searchParams.get('error_description')).toMatch(/^AADSTS9002325: /);

        const { verifier, challenge } = pkcePair();
        const callback = await entra.signIn(authorizeUrl(entra, d.tenants.primary.id, { ...base, code_challenge: challenge, code_challenge_method: 'S256' }), { username: d.users.member.username });
        const tokens = await requestTokens(entra, d.tenants.primary.id, {
          grant_type: 'authorization_code',
          client_id: spa.clientId,
          code: callback.searchParams.get('code')!,
          redirect_uri: 'http://localhost:5173/spa',
          code_verifier: verifier,
        });
        expect(decodeJwt(tokens.access_token)).toMatchObject({ azp: spa.clientId, azpacr: '0', oid: d.users.member.id });
      });

      it('a public client (isFallbackPublicClient) redeems its code and refresh token with no credential (msal-node PublicClientApplication)', async () => {
        const d = entra.defaults;
        const msal = new PublicClientApplication({
          auth: { clientId: desktop.clientId, authority: entra.authority(), knownAuthorities: [entra.knownAuthority] },
          system: { networkClient: entra.networkClient },
        });
        const { verifier, challenge } = await pkce.generatePkceCodes();
        const redirectUri = 'http://localhost:53127';
        const url = await msal.getAuthCodeUrl({ scopes: [d.apps.middleTierApi.scope], redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256' });
        const redirect = await entra.signIn(url, { username: d.users.member.username });

        const result = await msal.acquireTokenByCode({ code: redirect.searchParams.get('code')!, redirectUri, scopes: [d.apps.middleTierApi.scope], codeVerifier: verifier });

        expect(claimsOf(result.accessToken)).toMatchObject({ azp: desktop.clientId, azpacr: '0', oid: d.users.member.id });
        const refreshed = await msal.acquireTokenSilent({ account: result.account!, scopes: [d.apps.middleTierApi.scope], forceRefresh: true });
        expect(claimsOf(refreshed.accessToken).oid).toBe(d.users.member.id);
        expect(entra.tokenRequests({ clientId: desktop.clientId }).map((request) => [request.grantType, request.status])).toEqual([
          ['authorization_code', 200],
          ['refresh_token', 200],
        ]);

        // Public clients cannot act as themselves or exchange tokens: no credential, no confidential flows.
        const response = await postForm(entra, tokenEndpoint(entra, d.tenants.primary.id), { grant_type: 'client_credentials', client_id: desktop.clientId, scope: d.apps.downstreamApi.defaultScope });
        expect(response.status).toBe(401);
        expect(((await response.json()) as EntraErrorBody).error_codes).toEqual([7000218]);
      });

      it('a confidential web app still needs its credential at the token endpoint (AADSTS7000218)', async () => {
        const d = entra.defaults;
        const callback = await entra.signIn(authorizeUrl(entra, d.tenants.primary.id, { client_id: d.apps.webApp.app.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: d.apps.middleTierApi.scope }), {
          username: d.users.member.username,
        });
        const response = await postForm(entra, tokenEndpoint(entra, d.tenants.primary.id), { grant_type: 'authorization_code', client_id: d.apps.webApp.app.clientId, code: callback.searchParams.get('code')!, redirect_uri: REDIRECT_URI });
        expect(response.status).toBe(401);
        expect(((await response.json()) as EntraErrorBody).error_codes).toEqual([7000218]);
      });
    });

    // passport-azure-ad's OIDCStrategy signs in with response_type=code id_token and response_mode=form_post.
    it('hybrid sign-in (code id_token, form_post): openid-client validates the ID token with its c_hash and nonce', async () => {
      const d = entra.defaults;
      const config: Configuration = await discovery(new URL(entra.issuer(d.tenants.primary.id)), d.apps.webApp.app.clientId, d.apps.webApp.clientSecret, ClientSecretPost(d.apps.webApp.clientSecret), {
        [customFetch]: pinnedFetch,
      });
      useCodeIdTokenResponseType(config);
      const nonce = randomNonce();
      const state = randomState();
      const verifier = randomPKCECodeVerifier();
      const url = buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: `openid profile ${d.apps.middleTierApi.scope}`,
        response_mode: 'form_post',
        nonce,
        state,
        code_challenge: await calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      expect(url.searchParams.get('response_type')).toBe('code id_token');
      const posted = await entra.signIn(url.href, { username: d.users.member.username });
      expect(decodeJwt(posted.searchParams.get('id_token')!)).toMatchObject({ nonce, c_hash: expect.any(String), aud: d.apps.webApp.app.clientId });

      const callback = new Request(REDIRECT_URI, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: posted.searchParams.toString() });
      const tokens = await authorizationCodeGrant(config, callback, { expectedNonce: nonce, expectedState: state, pkceCodeVerifier: verifier });
      expect(tokens.claims()).toMatchObject({ oid: d.users.member.id, nonce });

      // A query response cannot carry an ID token.
      const query = await entra.fetch(authorizeUrl(entra, d.tenants.primary.id, { client_id: d.apps.webApp.app.clientId, response_type: 'code id_token', redirect_uri: REDIRECT_URI, scope: 'openid', nonce, response_mode: 'query' }), { redirect: 'manual' });
      expect(new URL(query.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    });

    it('userinfo (the Graph endpoint discovery names) answers for the Graph token of an OIDC-only sign-in, with the ID token’s sub', async () => {
      const d = entra.defaults;
      const config = await discovery(new URL(entra.issuer(d.tenants.primary.id)), d.apps.webApp.app.clientId, d.apps.webApp.clientSecret, ClientSecretPost(d.apps.webApp.clientSecret), { [customFetch]: pinnedFetch });
      expect(config.serverMetadata().userinfo_endpoint).toBe(`${entra.graphBaseUrl}/oidc/userinfo`);
      const nonce = randomNonce();
      const verifier = randomPKCECodeVerifier();
      const url = buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid profile email', nonce, code_challenge: await calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
      const tokens = await authorizationCodeGrant(config, await entra.signIn(url.href, { username: d.users.member.username }), { expectedNonce: nonce, pkceCodeVerifier: verifier });
      // Only OIDC scopes were asked: the access token is for Microsoft Graph, as Entra issues it.
      expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: 'https://graph.microsoft.com', scp: expect.stringContaining('User.Read') });

      const info = await fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
      expect(info).toMatchObject({ sub: tokens.claims()!.sub, name: d.users.member.displayName });
    });
  });

  describe('optional claims', () => {
    it('idtyp, xms_cc and acct appear only when the receiving app configured them', async () => {
      const d = entra.defaults;
      const configured = entra.directory.addApp({
        displayName: 'API with optional claims',
        tenantId: d.tenants.primary.id,
        signInAudience: 'AzureADMultipleOrgs',
        scopes: ['Orders.Read'],
        appRoles: ['Orders.Read.All'],
        optionalClaims: { accessToken: ['idtyp', 'xms_cc', 'acct'] },
      });
      entra.directory.grantApiPermission(d.apps.middleTierApi.app.clientId, configured.clientId, ['Orders.Read']);
      entra.directory.grantAppPermission(d.apps.daemon.app.clientId, configured.clientId, ['Orders.Read.All']);
      const guestToken = await entra.issueAccessToken({ user: d.users.guest, client: d.apps.webApp.app, resource: d.apps.middleTierApi.app, scopes: ['access_as_user'] });
      const capabilities = JSON.stringify({ access_token: { xms_cc: { values: ['cp1'] } } });

      // msal-node sends client capabilities as the claims parameter of the exchange.
      const on = await confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: guestToken, scopes: [`${configured.identifierUris[0]}/Orders.Read`], claims: capabilities });
      expect(claimsOf(on!.accessToken)).toMatchObject({ idtyp: 'user', xms_cc: ['cp1'], acct: 1 });
      const off = await confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: guestToken, scopes: [d.apps.downstreamApi.scopes.read], claims: capabilities });
      for (const optional of ['idtyp', 'xms_cc', 'acct']) expect(claimsOf(off!.accessToken)).not.toHaveProperty(optional);

      const daemon = confidentialClient(entra, { clientId: d.apps.daemon.app.clientId, credential: { clientSecret: d.apps.daemon.clientSecret } });
      expect(claimsOf((await daemon.acquireTokenByClientCredential({ scopes: [`${configured.identifierUris[0]}/.default`] }))!.accessToken).idtyp).toBe('app');
      expect(claimsOf((await daemon.acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope] }))!.accessToken).idtyp).toBeUndefined();
    });
  });

  describe('token lifetimes', () => {
    // Entra's default access-token lifetime is random between 60 and 90 minutes (configurable-token-lifetimes), and
    // ext_expires_in is reported on its own.
    it('access tokens live 3600–5400 s, not all the same, and ext_expires_in runs past expires_in', async () => {
      const d = entra.defaults;
      const responses = await Promise.all(
        Array.from({ length: 12 }, () =>
          requestTokens(entra, d.tenants.primary.id, { grant_type: 'client_credentials', client_id: d.apps.daemon.app.clientId, client_secret: d.apps.daemon.clientSecret, scope: d.apps.downstreamApi.defaultScope }),
        ),
      );
      for (const response of responses) {
        expect(response.expires_in).toBeGreaterThanOrEqual(3600);
        expect(response.expires_in).toBeLessThanOrEqual(5400);
        expect(response.ext_expires_in).toBeGreaterThan(response.expires_in);
        const claims = decodeJwt(response.access_token);
        expect(claims.exp! - claims.nbf! - 300).toBe(response.expires_in);
      }
      expect(new Set(responses.map((response) => response.expires_in)).size).toBeGreaterThan(1);

      const result = await confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra), scopes: [d.apps.downstreamApi.scopes.read] });
      const lifetimeSec = (result!.expiresOn!.getTime() - Date.now()) / 1000;
      expect(lifetimeSec).toBeGreaterThan(3600 - 60);
      expect(lifetimeSec).toBeLessThanOrEqual(5400 + 1);
      expect(result!.extExpiresOn!.getTime()).toBeGreaterThan(result!.expiresOn!.getTime());
    });
  });

  describe('discovery, keys and headers', () => {
    it('a discovery document requested by domain lists its endpoints with the tenant GUID, and every endpoint it lists answers', async () => {
      const { domain, id } = entra.defaults.tenants.primary;
      for (const path of [`/${domain}/v2.0/.well-known/openid-configuration`, `/${domain}/.well-known/openid-configuration`]) {
        const response = await entra.fetch(`${entra.authorityHost}${path}`);
        expect(response.headers.get('cache-control')).toBe('max-age=86400, private');
        expect(response.headers.get('access-control-allow-origin')).toBe('*');
        const document = (await response.json()) as Record<string, unknown>;
        const endpoints = Object.entries(document).filter(([name, value]) => (name.endsWith('_endpoint') || name === 'jwks_uri') && typeof value === 'string');
        for (const [name, value] of endpoints) {
          if (name !== 'jwks_uri' || path.includes('v2.0')) expect(value).not.toContain(domain);
          const url = value as string;
          if (url.startsWith(entra.authorityHost) && !url.includes('/graph/')) expect(url.includes(`/${id}/`) || url.includes('/common/')).toBe(true);
          const method = name === 'token_endpoint' ? 'POST' : 'GET';
          const answer = await entra.fetch(url, { method, redirect: 'manual' });
          await answer.arrayBuffer();
          expect([name, answer.status === 404]).toEqual([name, false]);
        }
      }
    });

    it('the v1 document carries the v1 field set, and its token endpoint answers v1 requests (resource, string numbers)', async () => {
      const d = entra.defaults;
      const tid = d.tenants.primary.id;
      const document = (await (await entra.fetch(`${entra.authorityHost}/${tid}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(document).toMatchObject({ issuer: `https://sts.windows.net/${tid}/`, microsoft_multi_refresh_token: true, scopes_supported: ['openid'] });
      expect(document.claims_supported).toEqual(expect.arrayContaining(['amr', 'given_name', 'family_name', 'nickname']));
      expect(document).not.toHaveProperty('request_uri_parameter_supported');

      const response = await postForm(entra, document.token_endpoint as string, {
        grant_type: 'client_credentials',
        client_id: d.apps.daemon.app.clientId,
        client_secret: d.apps.daemon.clientSecret,
        resource: d.apps.downstreamApi.app.identifierUris[0]!,
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: expect.stringMatching(/^\d+$/), expires_on: expect.stringMatching(/^\d+$/), resource: d.apps.downstreamApi.app.identifierUris[0] });
      expect(decodeJwt(body.access_token as string).roles).toEqual(['Directory.Read.All']);
    });

    it('the consumers tenant has discovery (with its GUID as issuer), but no work or school app can use it', async () => {
      const d = entra.defaults;
      const response = await entra.fetch(`${entra.authorityHost}/consumers/v2.0/.well-known/openid-configuration`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { issuer: string }).issuer).toBe(`${entra.authorityHost}/${CONSUMERS_TENANT_ID}/v2.0`);
      const keys = await entra.fetch(`${entra.authorityHost}/consumers/discovery/v2.0/keys`);
      expect(keys.status).toBe(200);
      await keys.arrayBuffer();

      const refused = await postForm(entra, tokenEndpoint(entra, 'consumers'), {
        grant_type: 'client_credentials',
        client_id: d.apps.daemon.app.clientId,
        client_secret: d.apps.daemon.clientSecret,
        scope: d.apps.downstreamApi.defaultScope,
      });
      expect(((await refused.json()) as EntraErrorBody).error_codes).toEqual([700016]);
    });

    it('publishes two keys at once, and the tokens name the last one', async () => {
      const d = entra.defaults;
      const jwks = (await (await entra.fetch(`${entra.authorityHost}/${d.tenants.primary.id}/discovery/v2.0/keys`)).json()) as { keys: { kid: string }[] };
      expect(jwks.keys).toHaveLength(2);
      expect(decodeProtectedHeader(await userToken(entra)).kid).toBe(jwks.keys[1]!.kid);
    });

    it("x-ms-request-id and x-ms-ests-server on every response; the request id is an error's trace_id", async () => {
      const d = entra.defaults;
      const failed = await postForm(entra, tokenEndpoint(entra, d.tenants.primary.id), { grant_type: JWT_BEARER_GRANT, client_id: d.apps.middleTierApi.app.clientId, client_secret: 'wrong' });
      const body = (await failed.json()) as EntraErrorBody;
      expect(failed.headers.get('x-ms-request-id')).toBe(body.trace_id);
      expect(entra.tokenRequests().at(-1)!.requestId).toBe(body.trace_id);
      expect([failed.headers.get('cache-control'), failed.headers.get('pragma'), failed.headers.get('expires')]).toEqual(['no-store, no-cache', 'no-cache', '-1']);
      for (const path of [`/${d.tenants.primary.id}/v2.0/.well-known/openid-configuration`, `/${d.tenants.primary.id}/oauth2/v2.0/logout`]) {
        const response = await entra.fetch(`${entra.authorityHost}${path}`);
        await response.arrayBuffer();
        expect(response.headers.get('x-ms-request-id')).toMatch(/^[0-9a-f-]{36}$/);
        expect(response.headers.get('x-ms-ests-server')).toEqual(expect.any(String));
      }
    });
  });
});
