// The emulator's wire format, read with nothing but HTTP: discovery, errors, the token endpoint's input handling, the
// sign-in pages, logout, the request log, faults and start-up options. No OAuth library in between, so what these
// tests see is what any client sees.
import { decodeJwt } from 'jose';
import { JWT_BEARER_GRANT, DEFAULT_DIRECTORY_IDS, startEntraEmulator } from '../../src/testing/index.js';
import { useEmulator } from '../support/emulator.js';
import {
  authorizeUrl,
  decodeClientInfo,
  entraErrorOf,
  expectEntraError,
  GUID,
  pkcePair,
  postForm,
  requestTokens,
  tokenEndpoint,
  type TokenResponse,
} from './entra-http-kit.js';
import { WEB_APP_REDIRECT_URI, webAppCodeRedemption } from './emulator-web-app-kit.js';

const REDIRECT_URI = WEB_APP_REDIRECT_URI;
const UNKNOWN_TENANT = '0b0b0b0b-1c1c-4d4d-8e8e-9f9f9f9f9f9f';

describe('Entra ID emulator over raw HTTP', () => {
  const entra = useEmulator();

  function primaryTenant(): string {
    return entra.defaults.tenants.primary.id;
  }

  async function getJson(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await entra.fetch(`${entra.authorityHost}${path}`, { headers });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** A request the emulator must always answer: the daemon's client-credentials token, secret in the form. */
  async function expectStillServing(): Promise<void> {
    const d = entra.defaults;
    const tokens = await requestTokens(entra, primaryTenant(), {
      grant_type: 'client_credentials',
      client_id: d.apps.daemon.app.clientId,
      client_secret: d.apps.daemon.clientSecret,
      scope: d.apps.middleTierApi.app.identifierUris[0] + '/.default',
    });
    expect(decodeJwt(tokens.access_token).aud).toBe(d.apps.middleTierApi.app.clientId);
  }

  /** Parameters of a valid authorization request from the web app; override or (with undefined) remove any of them. */
  function signInParams(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    const d = entra.defaults;
    return {
      client_id: d.apps.webApp.app.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      response_mode: 'query',
      scope: `openid profile offline_access ${d.apps.middleTierApi.scope}`,
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      state: 'state-7f3a',
      nonce: 'nonce-91c2',
      ...overrides,
    };
  }

  function getAuthorize(params: Record<string, string | undefined>, tenant = primaryTenant()): Promise<Response> {
    return entra.fetch(authorizeUrl(entra, tenant, params), { redirect: 'manual' });
  }

  function redirectOf(response: Response): URL {
    expect(response.status).toBe(302);
    return new URL(response.headers.get('location')!);
  }

  describe('discovery', () => {
    it('serves the v2 OpenID configuration of a tenant with the fields Entra publishes', async () => {
      const tid = primaryTenant();
      const base = `${entra.authorityHost}/${tid}`;
      const { status, body } = await getJson(`/${tid}/v2.0/.well-known/openid-configuration`);

      expect(status).toBe(200);
      expect(body).toMatchObject({
        issuer: `${base}/v2.0`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/oauth2/v2.0/token`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
      expect(body.issuer).toBe(entra.issuer(tid));
      expect([...(body.token_endpoint_auth_methods_supported as string[])].sort()).toEqual(['client_secret_basic', 'client_secret_post', 'private_key_jwt']);
      expect(body.response_types_supported).toEqual(expect.arrayContaining(['code', 'id_token', 'code id_token', 'id_token token']));
      expect([...(body.response_modes_supported as string[])].sort()).toEqual(['form_post', 'fragment', 'query']);
      expect(body.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']));
    });

    it('serves the v1 OpenID configuration with the sts.windows.net issuer and the v1 keys', async () => {
      const tid = primaryTenant();
      const { status, body } = await getJson(`/${tid}/.well-known/openid-configuration`);

      expect(status).toBe(200);
      expect(body.issuer).toBe(`https://sts.windows.net/${tid}/`);
      expect(body.issuer).toBe(entra.issuer(tid, 1));
      // Entra's v1 documents name the common keys endpoint, whatever the tenant.
      expect(body.jwks_uri).toBe(`${entra.authorityHost}/common/discovery/keys`);
      expect(body.id_token_signing_alg_values_supported).toEqual(['RS256']);
    });

    it.each(['common', 'organizations'])('publishes the {tenantid} template issuer for /%s', async (segment) => {
      const v2 = await getJson(`/${segment}/v2.0/.well-known/openid-configuration`);
      expect(v2.status).toBe(200);
      expect(v2.body.issuer).toBe(`${entra.authorityHost}/{tenantid}/v2.0`);
      expect(v2.body.token_endpoint).toBe(`${entra.authorityHost}/${segment}/oauth2/v2.0/token`);

      const v1 = await getJson(`/${segment}/.well-known/openid-configuration`);
      expect(v1.status).toBe(200);
      expect(v1.body.issuer).toBe('https://sts.windows.net/{tenantid}/');
    });

    it('accepts the tenant domain name in place of its GUID, and the issuer carries the GUID', async () => {
      const { domain, id } = entra.defaults.tenants.primary;
      const { status, body } = await getJson(`/${domain}/v2.0/.well-known/openid-configuration`);

      expect(status).toBe(200);
      expect(domain).toBe('contoso.onmicrosoft.com');
      expect(body.issuer).toBe(`${entra.authorityHost}/${id}/v2.0`);
      // The endpoints it names work: a token request at the domain-named token endpoint succeeds.
      const d = entra.defaults;
      const tokens = await requestTokens(entra, domain, {
        grant_type: 'client_credentials',
        client_id: d.apps.daemon.app.clientId,
        client_secret: d.apps.daemon.clientSecret,
        scope: d.apps.downstreamApi.defaultScope,
      });
      expect(decodeJwt(tokens.access_token).tid).toBe(id);
    });

    it('answers instance discovery with the tenant discovery endpoint and the host as its only alias', async () => {
      const authorize = `${entra.authorityHost}/${primaryTenant()}/oauth2/v2.0/authorize`;
      const { status, body } = await getJson(`/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(authorize)}`);
      const host = new URL(entra.authorityHost).host;

      expect(status).toBe(200);
      expect(body).toEqual({
        tenant_discovery_endpoint: `${entra.authorityHost}/${primaryTenant()}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      });
    });

    it('answers an unknown tenant with HTTP 400 invalid_tenant AADSTS90002, echoing client-request-id as the correlation id', async () => {
      const correlationId = '5a1e0c4b-7e0d-4f3b-9a57-2b8c6d7e8f90';
      const response = await entra.fetch(`${entra.authorityHost}/${UNKNOWN_TENANT}/v2.0/.well-known/openid-configuration`, {
        headers: { 'client-request-id': correlationId },
      });
      const { status, body } = await entraErrorOf(response);

      expect(status).toBe(400);
      // Entra answers discovery for a tenant it does not know with `invalid_tenant` (see the captures in
      // Azure/azure-cli#22145 and #14509), not `invalid_request`.
      expectEntraError(body, 'invalid_tenant', 90002, correlationId);
      expect(body.error_description).toContain(UNKNOWN_TENANT);
      expect(response.headers.get('client-request-id')).toBe(correlationId);
    });

    it('answers an unknown path with 404', async () => {
      const response = await entra.fetch(`${entra.authorityHost}/${primaryTenant()}/oauth2/v2.0/nothing-here`);
      expect(response.status).toBe(404);
      await response.arrayBuffer();
    });
  });

  describe('token endpoint input handling', () => {
    function daemonForm(overrides: Record<string, string | undefined> = {}): Record<string, string> {
      const d = entra.defaults;
      const fields: Record<string, string | undefined> = {
        grant_type: 'client_credentials',
        client_id: d.apps.daemon.app.clientId,
        client_secret: d.apps.daemon.clientSecret,
        scope: d.apps.downstreamApi.defaultScope,
        ...overrides,
      };
      return Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined));
    }

    function basic(clientId: string, secret: string): string {
      // RFC 6749 §2.3.1: each part form-url-encoded before base64.
      return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
    }

    /** A raw POST to the primary tenant's token endpoint, with any content type and body. */
    const postRaw = (contentType: string, body: BodyInit) => () => entra.fetch(tokenEndpoint(entra, primaryTenant()), { method: 'POST', headers: { 'content-type': contentType }, body });
    const postDaemon = (overrides: Record<string, string | undefined>) => () => postForm(entra, tokenEndpoint(entra, primaryTenant()), daemonForm(overrides));

    // Each malformed request gets Entra's 400 with its error and AADSTS number (naming what is wrong, where Entra
    // does), and the emulator goes on serving. Entra's code for an unsupported grant type is 70003
    // (UnsupportedGrantType); 70000 is InvalidGrant.
    it.each<{ name: string; send: () => Promise<Response>; error: string; aadsts: number; mentions?: string }>([
      { name: 'missing grant_type: invalid_request AADSTS900144', send: postDaemon({ grant_type: undefined }), error: 'invalid_request', aadsts: 900144, mentions: "'grant_type'" },
      { name: 'an unknown grant type: unsupported_grant_type AADSTS70003', send: postDaemon({ grant_type: 'urn:example:not-a-grant' }), error: 'unsupported_grant_type', aadsts: 70003, mentions: 'urn:example:not-a-grant' },
      { name: 'missing client_id: invalid_request AADSTS900144 naming client_id', send: postDaemon({ client_id: undefined }), error: 'invalid_request', aadsts: 900144, mentions: "'client_id'" },
      {
        name: 'a JSON body instead of a form: read as no parameters at all (AADSTS900144 grant_type)',
        send: () => postRaw('application/json', JSON.stringify(daemonForm()))(),
        error: 'invalid_request',
        aadsts: 900144,
        mentions: "'grant_type'",
      },
      {
        name: 'a garbage body: an Entra-shaped 400, not a crash',
        send: postRaw('application/x-www-form-urlencoded', Buffer.from([0x00, 0xff, 0xfe, 0x25, 0x25, 0x3d, 0x26, 0x26, 0x3d, 0x80, 0x81, 0x25, 0x7a])),
        error: 'invalid_request',
        aadsts: 900144,
      },
      {
        name: 'a body over 256 KB: refused with an Entra-shaped 400 (AADSTS90014), and the connection pool stays usable',
        send: () => postRaw('application/x-www-form-urlencoded', new URLSearchParams({ ...daemonForm(), padding: 'x'.repeat(300 * 1024) }).toString())(),
        error: 'invalid_request',
        aadsts: 90014,
      },
    ])('$name', async ({ send, error, aadsts, mentions }) => {
      const { status, body } = await entraErrorOf(await send());
      expect(status).toBe(400);
      expectEntraError(body, error, aadsts);
      if (mentions !== undefined) expect(body.error_description).toContain(mentions);
      await expectStillServing();
    });

    it('HTTP Basic client authentication: the right secret succeeds', async () => {
      const d = entra.defaults;
      const tokens = await requestTokens(entra, primaryTenant(), daemonForm({ client_id: undefined, client_secret: undefined }), {
        authorization: basic(d.apps.daemon.app.clientId, d.apps.daemon.clientSecret),
      });
      const claims = decodeJwt(tokens.access_token);
      expect(claims.azp).toBe(d.apps.daemon.app.clientId);
      expect(claims.azpacr).toBe('1');
      expect(claims.roles).toEqual(['Directory.Read.All']);
    });

    it('HTTP Basic client authentication: a wrong secret is HTTP 401 invalid_client AADSTS7000215', async () => {
      const d = entra.defaults;
      const response = await postForm(entra, tokenEndpoint(entra, primaryTenant()), daemonForm({ client_id: undefined, client_secret: undefined }), {
        authorization: basic(d.apps.daemon.app.clientId, 'not-the-secret'),
      });
      const { status, body } = await entraErrorOf(response);
      expect(status).toBe(401);
      expectEntraError(body, 'invalid_client', 7000215);
      await expectStillServing();
    });

    it('secret in the form: a wrong one is 401 AADSTS7000215, none at all is 401 AADSTS7000218, an unknown client 400 AADSTS700016', async () => {
      const wrong = await entraErrorOf(await postForm(entra, tokenEndpoint(entra, primaryTenant()), daemonForm({ client_secret: 'not-the-secret' })));
      expect(wrong.status).toBe(401);
      expectEntraError(wrong.body, 'invalid_client', 7000215);

      const none = await entraErrorOf(await postForm(entra, tokenEndpoint(entra, primaryTenant()), daemonForm({ client_secret: undefined })));
      expect(none.status).toBe(401);
      expectEntraError(none.body, 'invalid_client', 7000218);

      const unknownClient = 'c0ffee00-0000-4000-8000-000000000000';
      const unknown = await entraErrorOf(await postForm(entra, tokenEndpoint(entra, primaryTenant()), daemonForm({ client_id: unknownClient })));
      expect(unknown.status).toBe(400);
      expectEntraError(unknown.body, 'unauthorized_client', 700016);
      expect(unknown.body.error_description).toContain(unknownClient);

      await expectStillServing();
    });

    it('echoes client-request-id on a successful token response too', async () => {
      const correlationId = '0f5c8a8e-3b1d-4c55-9d0e-6a7b8c9d0e1f';
      const response = await postForm(entra, tokenEndpoint(entra, primaryTenant()), daemonForm(), { 'client-request-id': correlationId });
      expect(response.status).toBe(200);
      expect(response.headers.get('client-request-id')).toBe(correlationId);
      const body = (await response.json()) as TokenResponse;
      expect(body.token_type).toBe('Bearer');
      expect(body.refresh_token).toBeUndefined();
      expect(body.id_token).toBeUndefined();
    });
  });

  describe('the sign-in page', () => {
    it('GET authorize with valid PKCE parameters shows the tenant’s accounts, the guest marked as one', async () => {
      const d = entra.defaults;
      const response = await getAuthorize(signInParams());
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await response.text();

      for (const user of [d.users.member, d.users.mfaUser]) {
        expect(html).toContain(user.displayName);
        expect(html).toContain(`${user.username}</span>`);
      }
      expect(d.users.guest.username).toBe('dave_fabrikam.onmicrosoft.com#EXT#@contoso.onmicrosoft.com');
      expect(html).toContain(`${d.users.guest.username} (guest)`);
      // Members are not marked, and Dave's home account (another tenant) is not offered here.
      expect(html).not.toContain(`${d.users.member.username} (guest)`);
      expect(html).not.toContain(`>${d.users.secondTenantMember.username}`);
      expect(html).toContain(d.apps.webApp.app.displayName);
    });

    // PKCE is required only for SPA redirect URIs; a web app may omit it or use plain (v2-oauth2-auth-code-flow).
    it.each([
      ['code_challenge_method is unknown', { code_challenge_method: 'S512' }],
      ['code_challenge_method comes without code_challenge', { code_challenge: undefined }],
    ])('redirects back with invalid_request when %s', async (_case, overrides) => {
      const location = redirectOf(await getAuthorize(signInParams(overrides)));

      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('error_description')).toMatch(/^AADSTS\d+: .*code_challenge/);
      expect(location.searchParams.get('state')).toBe('state-7f3a');
      expect(location.searchParams.has('code')).toBe(false);
    });

    it('shows an HTML error page (400) for an unregistered redirect URI, never redirecting to it', async () => {
      const response = await getAuthorize(signInParams({ redirect_uri: 'https://attacker.example/callback' }));
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toContain('AADSTS50011');
    });

    it('shows an HTML error page (400) for an unknown client', async () => {
      const unknownClient = 'c0ffee00-0000-4000-8000-000000000000';
      const response = await getAuthorize(signInParams({ client_id: unknownClient }));
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await response.text();
      expect(html).toContain('AADSTS700016');
      expect(html).toContain(unknownClient);
    });

    it('accepts a loopback redirect URI on any port (RFC 8252 §7.3), but not another path', async () => {
      for (const redirectUri of ['http://localhost:49321/auth/callback', 'http://127.0.0.1:8080/auth/callback', 'http://localhost/auth/callback']) {
        const response = await getAuthorize(signInParams({ redirect_uri: redirectUri }));
        expect({ redirectUri, status: response.status }).toEqual({ redirectUri, status: 200 });
        await response.text();
      }
      const otherPath = await getAuthorize(signInParams({ redirect_uri: 'http://localhost:49321/somewhere-else' }));
      expect(otherPath.status).toBe(400);
      await otherPath.text();
    });

    it('prompt=none without login_hint redirects back with error=login_required', async () => {
      const location = redirectOf(await getAuthorize(signInParams({ prompt: 'none' })));
      expect(location.searchParams.get('error')).toBe('login_required');
      expect(location.searchParams.get('error_description')).toMatch(/^AADSTS50058: /);
      expect(location.searchParams.get('state')).toBe('state-7f3a');
    });

    it('login_hint signs the user in directly: 302 to the redirect URI with code, state and client_info', async () => {
      const d = entra.defaults;
      const location = redirectOf(await getAuthorize(signInParams({ login_hint: d.users.member.username })));

      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
      expect(location.searchParams.get('code')).toEqual(expect.any(String));
      expect(location.searchParams.get('state')).toBe('state-7f3a');
      expect(decodeClientInfo(location.searchParams.get('client_info')!)).toEqual({ uid: d.users.member.id, utid: d.tenants.primary.id });
    });

    it('login_hint with a guest’s sign-in name (with its upper-case #EXT#) signs the guest in directly', async () => {
      const d = entra.defaults;
      const location = redirectOf(await getAuthorize(signInParams({ login_hint: d.users.guest.username })));
      expect(decodeClientInfo(location.searchParams.get('client_info')!)).toEqual({ uid: d.users.guest.id, utid: d.tenants.primary.id });
    });

    it('login_hint with a member of another tenant signs them in as their guest account here', async () => {
      const d = entra.defaults;
      const location = redirectOf(await getAuthorize(signInParams({ login_hint: d.users.secondTenantMember.username })));
      expect(decodeClientInfo(location.searchParams.get('client_info')!)).toEqual({ uid: d.users.guest.id, utid: d.tenants.primary.id });
    });

    it('an MFA user with a claims challenge gets a second-factor page; a wrong code shows it again, the right one completes', async () => {
      const d = entra.defaults;
      const { verifier, challenge } = pkcePair();
      const claims = JSON.stringify({ access_token: { capolids: { essential: true, values: [d.policies.mfaForDownstream.id] } } });
      const first = await getAuthorize(signInParams({ login_hint: d.users.mfaUser.username, claims, code_challenge: challenge }));
      expect(first.status).toBe(200);
      const page = await first.text();
      const code = /id="verification-code" data-code="(\d{6})"/.exec(page)?.[1];
      const transactionId = /name="tx" value="([^"]+)"/.exec(page)?.[1];
      expect(code).toMatch(/^\d{6}$/);
      expect(transactionId).toEqual(expect.any(String));
      expect(page).toContain(d.users.mfaUser.username);

      const action = `${entra.authorityHost}/${primaryTenant()}/oauth2/v2.0/authorize`;
      const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      const retry = await postForm(entra, action, { tx: transactionId!, step: 'mfa', otc: wrongCode });
      expect(retry.status).toBe(200);
      const retryPage = await retry.text();
      expect(retryPage).toContain('role="alert"');
      expect(retryPage).toContain(`data-code="${code}"`);

      const done = redirectOf(await postForm(entra, action, { tx: transactionId!, step: 'mfa', otc: code! }));
      expect(done.searchParams.get('state')).toBe('state-7f3a');
      const authorizationCode = done.searchParams.get('code')!;

      // The second factor is on the record: the tokens say so.
      const tokens = await requestTokens(entra, primaryTenant(), webAppCodeRedemption(entra, authorizationCode, verifier, `openid ${d.apps.middleTierApi.scope}`));
      // v2 access tokens carry no amr: the second factor shows where Entra keeps it, in the session. The MFA-protected
      // downstream API now issues to the middle tier on behalf of this token.
      expect(decodeJwt(tokens.access_token).amr).toBeUndefined();
      expect(decodeJwt(tokens.id_token!).nonce).toBe('nonce-91c2');
      const downstream = await requestTokens(entra, primaryTenant(), {
        grant_type: JWT_BEARER_GRANT,
        client_id: d.apps.middleTierApi.app.clientId,
        client_secret: d.apps.middleTierApi.clientSecret,
        assertion: tokens.access_token,
        requested_token_use: 'on_behalf_of',
        scope: d.apps.downstreamApi.scopes.read,
      });
      expect(decodeJwt(downstream.access_token).oid).toBe(d.users.mfaUser.id);
    });

    it('the logout endpoint redirects only to a registered post_logout_redirect_uri, or shows a signed-out page', async () => {
      // The web app registers http://localhost/ (any port, as a loopback URI).
      const target = 'http://localhost:3000/';
      const base = `${entra.authorityHost}/${primaryTenant()}/oauth2/v2.0/logout`;
      const withTarget = await entra.fetch(`${base}?post_logout_redirect_uri=${encodeURIComponent(target)}`, { redirect: 'manual' });
      expect(withTarget.status).toBe(302);
      expect(withTarget.headers.get('location')).toBe(target);
      const forClient = await entra.fetch(`${base}?client_id=${entra.defaults.apps.webApp.app.clientId}&post_logout_redirect_uri=${encodeURIComponent(target)}`, { redirect: 'manual' });
      expect(forClient.status).toBe(302);
      await forClient.arrayBuffer();

      for (const unregistered of ['https://evil.example/phish', 'http://localhost:3000/elsewhere']) {
        const refused = await entra.fetch(`${base}?post_logout_redirect_uri=${encodeURIComponent(unregistered)}`, { redirect: 'manual' });
        expect(refused.status).toBe(200);
        expect(await refused.text()).toContain('signed out');
      }
      const wrongClient = await entra.fetch(`${base}?client_id=${entra.defaults.apps.daemon.app.clientId}&post_logout_redirect_uri=${encodeURIComponent(target)}`, { redirect: 'manual' });
      expect(wrongClient.status).toBe(200);
      await wrongClient.arrayBuffer();

      const withoutTarget = await entra.fetch(base, { redirect: 'manual' });
      expect(withoutTarget.status).toBe(200);
      expect(await withoutTarget.text()).toContain('signed out');
    });
  });

  describe('the request log', () => {
    it('records every request with its endpoint, grant and client, but no secret, assertion, code or token', async () => {
      const d = entra.defaults;
      entra.clearRequests();
      const correlationId = '9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f';

      // A user signs in (the code travels in the redirect, then in the token request), …
      const { verifier, challenge } = pkcePair();
      const redirect = redirectOf(await getAuthorize(signInParams({ login_hint: d.users.member.username, code_challenge: challenge })));
      const code = redirect.searchParams.get('code')!;
      const signedIn = await requestTokens(entra, primaryTenant(), webAppCodeRedemption(entra, code, verifier));
      // … the web app refreshes, with HTTP Basic this time, …
      const refreshed = await requestTokens(
        entra,
        primaryTenant(),
        { grant_type: 'refresh_token', refresh_token: signedIn.refresh_token!, scope: d.apps.middleTierApi.scope },
        { authorization: `Basic ${Buffer.from(`${d.apps.webApp.app.clientId}:${encodeURIComponent(d.apps.webApp.clientSecret)}`).toString('base64')}` },
      );
      // … and the middle tier exchanges the user's token On-Behalf-Of.
      const obo = await requestTokens(
        entra,
        primaryTenant(),
        {
          grant_type: JWT_BEARER_GRANT,
          client_id: d.apps.middleTierApi.app.clientId,
          client_secret: d.apps.middleTierApi.clientSecret,
          assertion: signedIn.access_token,
          requested_token_use: 'on_behalf_of',
          scope: d.apps.downstreamApi.scopes.read,
        },
        { 'client-request-id': correlationId },
      );

      const tokenRequests = entra.tokenRequests();
      expect(tokenRequests.map((entry) => [entry.grantType, entry.status])).toEqual([
        ['authorization_code', 200],
        ['refresh_token', 200],
        [JWT_BEARER_GRANT, 200],
      ]);
      expect(tokenRequests[0]!.clientId).toBe(d.apps.webApp.app.clientId);
      expect(tokenRequests[2]!.clientId).toBe(d.apps.middleTierApi.app.clientId);
      expect(tokenRequests[2]!.correlationId).toBe(correlationId);
      expect(entra.requests.some((entry) => entry.endpoint === 'authorize')).toBe(true);

      const recorded = JSON.stringify(entra.requests);
      const secrets = {
        webAppSecret: d.apps.webApp.clientSecret,
        middleTierSecret: d.apps.middleTierApi.clientSecret,
        code,
        verifier,
        assertion: signedIn.access_token,
        refreshToken: signedIn.refresh_token!,
        newRefreshToken: refreshed.refresh_token!,
        oboToken: obo.access_token,
      };
      for (const [name, value] of Object.entries(secrets)) expect({ name, leaked: recorded.includes(value) }).toEqual({ name, leaked: false });
    });
  });

  describe('a client that authenticates with HTTP Basic only', () => {
    function basicOnlyRequest(): Promise<Response> {
      const d = entra.defaults;
      // No client_id in the form: RFC 6749 §2.3.1 lets HTTP Basic carry it alone.
      return postForm(
        entra,
        tokenEndpoint(entra, primaryTenant()),
        { grant_type: 'client_credentials', scope: d.apps.downstreamApi.defaultScope },
        { authorization: `Basic ${Buffer.from(`${d.apps.daemon.app.clientId}:${encodeURIComponent(d.apps.daemon.clientSecret)}`).toString('base64')}` },
      );
    }

    it('is attributed to its client in the request log', async () => {
      const d = entra.defaults;
      entra.clearRequests();
      expect((await basicOnlyRequest()).status).toBe(200);
      expect(entra.tokenRequests({ clientId: d.apps.daemon.app.clientId })).toHaveLength(1);
    });

    it('is hit by a fault queued for its client id', async () => {
      const d = entra.defaults;
      entra.faults.inject({ type: 'server-error', status: 503 }, { clientId: d.apps.daemon.app.clientId });
      const response = await basicOnlyRequest();
      await response.arrayBuffer();
      expect(response.status).toBe(503);
    });
  });

  describe('fault injection on metadata endpoints', () => {
    it('a 503 queued for jwks hits only the keys endpoint, once', async () => {
      const tid = primaryTenant();
      entra.faults.inject({ type: 'server-error', status: 503 }, { endpoint: 'jwks' });

      // Discovery and the token endpoint are untouched by it …
      expect((await getJson(`/${tid}/v2.0/.well-known/openid-configuration`)).status).toBe(200);
      await expectStillServing();
      expect(entra.faults.pending).toBe(1);

      // … the keys endpoint takes it, then recovers.
      const failed = await entraErrorOf(await entra.fetch(`${entra.authorityHost}/${tid}/discovery/v2.0/keys`));
      expect(failed.status).toBe(503);
      expectEntraError(failed.body, 'temporarily_unavailable', 50000);
      const recovered = await getJson(`/${tid}/discovery/v2.0/keys`);
      expect(recovered.status).toBe(200);
      expect(entra.faults.pending).toBe(0);
      expect(entra.requests.filter((entry) => entry.endpoint === 'jwks').at(-2)?.fault).toBe('server-error');
    });

    it('a 503 queued for discovery hits only the discovery endpoint, once', async () => {
      const tid = primaryTenant();
      entra.faults.inject({ type: 'server-error', status: 503 }, { endpoint: 'discovery' });

      expect((await getJson(`/${tid}/discovery/v2.0/keys`)).status).toBe(200);
      await expectStillServing();
      expect(entra.faults.pending).toBe(1);

      const failed = await entraErrorOf(await entra.fetch(`${entra.authorityHost}/${tid}/v2.0/.well-known/openid-configuration`));
      expect(failed.status).toBe(503);
      expectEntraError(failed.body, 'temporarily_unavailable', 50000);
      expect((await getJson(`/${tid}/v2.0/.well-known/openid-configuration`)).status).toBe(200);
      expect(entra.faults.pending).toBe(0);
    });
  });
});

describe('Entra ID emulator start-up options', () => {
  it('with allowLoginHintSignIn: false, shows the account picker despite login_hint', async () => {
    const entra = await startEntraEmulator({ allowLoginHintSignIn: false });
    try {
      const d = entra.defaults;
      const response = await entra.fetch(
        authorizeUrl(entra, d.tenants.primary.id, {
          client_id: d.apps.webApp.app.clientId,
          response_type: 'code',
          redirect_uri: REDIRECT_URI,
          scope: `openid ${d.apps.middleTierApi.scope}`,
          code_challenge: pkcePair().challenge,
          code_challenge_method: 'S256',
          login_hint: d.users.member.username,
        }),
        { redirect: 'manual' },
      );
      expect(response.status).toBe(200);
      const html = await response.text();
      expect(html).toContain('name="user"');
      expect(html).toContain(d.users.member.displayName);
      expect(html).toContain(d.users.mfaUser.displayName);
    } finally {
      await entra.close();
    }
  });

  it('rejects a port out of range with a message that names the option', async () => {
    await expect(startEntraEmulator({ port: -1 })).rejects.toThrow(/port must be an integer from 0 to 65535, got -1/);
  });

  it('rejects a host that is not loopback with a message that names the option', async () => {
    await expect(startEntraEmulator({ host: '10.0.0.1' })).rejects.toThrow(/host must be a loopback address .*got '10\.0\.0\.1'/);
  });

  it("seed: 'empty' starts with no tenant, and `defaults` says why it cannot answer", async () => {
    const entra = await startEntraEmulator({ seed: 'empty' });
    try {
      expect(entra.directory.tenants).toEqual([]);
      // Microsoft Graph is part of every directory, even an empty one.
      expect(entra.directory.apps.map((app) => app.displayName)).toEqual(['Microsoft Graph']);
      expect(() => entra.defaults).toThrow(/not started with the default directory/);
      expect(() => entra.authority()).toThrow(/no tenant/);
      const response = await entra.fetch(`${entra.authorityHost}/${DEFAULT_DIRECTORY_IDS.tenants.primary}/v2.0/.well-known/openid-configuration`);
      expect(response.status).toBe(400);
      await response.arrayBuffer();
    } finally {
      await entra.close();
    }
  });

  it('a seed function builds the directory the emulator then serves', async () => {
    let secret = '';
    const entra = await startEntraEmulator({
      seed: (emulator) => {
        const tenant = emulator.directory.addTenant({ displayName: 'Northwind', domain: 'northwind.onmicrosoft.com' });
        emulator.directory.addUser({ tenantId: tenant.id, username: 'erin', displayName: 'Erin Evans' });
        const api = emulator.directory.addApp({ tenantId: tenant.id, displayName: 'Northwind API', appRoles: ['Orders.Read'] });
        const job = emulator.directory.addApp({ tenantId: tenant.id, displayName: 'Northwind Job', appPermissions: { [api.clientId]: ['Orders.Read'] } });
        secret = emulator.directory.addSecret(job.clientId);
      },
    });
    try {
      const [tenant] = entra.directory.tenants;
      expect(entra.directory.tenants).toHaveLength(1);
      expect(tenant!.id).toMatch(GUID);
      expect(entra.authority()).toBe(`${entra.authorityHost}/${tenant!.id}`);
      expect(entra.directory.user('erin@northwind.onmicrosoft.com').displayName).toBe('Erin Evans');
      expect(() => entra.defaults).toThrow();

      const job = entra.directory.apps.find((app) => app.displayName === 'Northwind Job')!;
      const api = entra.directory.apps.find((app) => app.displayName === 'Northwind API')!;
      const tokens = await requestTokens(entra, 'northwind.onmicrosoft.com', {
        grant_type: 'client_credentials',
        client_id: job.clientId,
        client_secret: secret,
        scope: `${api.identifierUris[0]}/.default`,
      });
      const claims = decodeJwt(tokens.access_token);
      expect(claims).toMatchObject({ aud: api.clientId, tid: tenant!.id, roles: ['Orders.Read'] });
      expect(claims.oid).toBe(claims.sub);
    } finally {
      await entra.close();
    }
  });
});
