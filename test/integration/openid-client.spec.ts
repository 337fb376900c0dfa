// openid-client 6 is a certified OpenID Connect relying party: if it accepts the emulator's discovery document, its
// authorization-code + PKCE round trip and its ID tokens, the emulator speaks OIDC the way a strict client expects.
import {
  authorizationCodeGrant,
  buildAuthorizationUrl,
  calculatePKCECodeChallenge,
  ClientError,
  ClientSecretPost,
  customFetch,
  discovery,
  enableNonRepudiationChecks,
  randomNonce,
  randomPKCECodeVerifier,
  randomState,
  refreshTokenGrant,
  ResponseBodyError,
  type Configuration,
  type CustomFetch,
} from 'openid-client';
import { decodeJwt } from 'jose';
import { useEmulator } from '../support/emulator.js';
import { decodeClientInfo } from './entra-http-kit.js';

const REDIRECT_URI = 'http://localhost:3000/auth/callback';

describe('openid-client 6 as a relying party of the emulator', () => {
  const entra = useEmulator();
  let config: Configuration;

  beforeAll(async () => {
    config = await relyingParty();
  });

  /**
   * The emulator's CA-pinned fetch in openid-client's `CustomFetch` shape. openid-client types its body as
   * `Uint8Array<ArrayBufferLike>`, which TypeScript's DOM `BodyInit` does not admit although fetch accepts it at run
   * time, so the options are passed through as `RequestInit`.
   */
  const pinnedFetch: CustomFetch = (url, options) => entra.fetch(url, options as RequestInit);

  /** The web app's openid-client configuration, discovered from the primary tenant's v2 issuer. */
  async function relyingParty(): Promise<Configuration> {
    const d = entra.defaults;
    const { clientId } = d.apps.webApp.app;
    const secret = d.apps.webApp.clientSecret;
    const discovered = await discovery(new URL(entra.issuer(d.tenants.primary.id)), clientId, secret, ClientSecretPost(secret), { [customFetch]: pinnedFetch });
    // Also verify the signature of every ID token against the published keys (by default openid-client trusts TLS).
    enableNonRepudiationChecks(discovered);
    return discovered;
  }

  function scope(): string {
    return `openid profile offline_access ${entra.defaults.apps.middleTierApi.scope}`;
  }

  interface Started {
    url: URL;
    verifier: string;
    nonce: string;
    state: string;
  }

  async function startSignIn(extra: Record<string, string> = {}): Promise<Started> {
    const verifier = randomPKCECodeVerifier();
    const nonce = randomNonce();
    const state = randomState();
    const url = buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: scope(),
      code_challenge: await calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
      ...extra,
    });
    return { url, verifier, nonce, state };
  }

  it('discovers the tenant: issuer and endpoints from the v2 document', () => {
    const d = entra.defaults;
    const metadata = config.serverMetadata();
    const base = `${entra.authorityHost}/${d.tenants.primary.id}`;
    expect(metadata.issuer).toBe(`${base}/v2.0`);
    expect(metadata.authorization_endpoint).toBe(`${base}/oauth2/v2.0/authorize`);
    expect(metadata.token_endpoint).toBe(`${base}/oauth2/v2.0/token`);
    expect(metadata.jwks_uri).toBe(`${base}/discovery/v2.0/keys`);
    expect(config.clientMetadata().client_id).toBe(d.apps.webApp.app.clientId);
    expect(entra.requests.filter((entry) => entry.endpoint === 'discovery').map((entry) => entry.path)).toContain(`/${d.tenants.primary.id}/v2.0/.well-known/openid-configuration`);
  });

  it('authorization code + PKCE: the ID token passes openid-client’s validation and carries Entra’s claims', async () => {
    const d = entra.defaults;
    const started = await startSignIn();
    expect(started.url.origin + started.url.pathname).toBe(`${entra.authorityHost}/${d.tenants.primary.id}/oauth2/v2.0/authorize`);
    expect(started.url.searchParams.get('client_id')).toBe(d.apps.webApp.app.clientId);
    expect(started.url.searchParams.get('response_type')).toBe('code');

    const callback = await entra.signIn(started.url.href, { username: d.users.member.username });
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(decodeClientInfo(callback.searchParams.get('client_info')!)).toEqual({ uid: d.users.member.id, utid: d.tenants.primary.id });

    const tokens = await authorizationCodeGrant(config, callback, { pkceCodeVerifier: started.verifier, expectedNonce: started.nonce, expectedState: started.state });

    const claims = tokens.claims();
    expect(claims).toMatchObject({
      iss: entra.issuer(d.tenants.primary.id),
      aud: d.apps.webApp.app.clientId,
      nonce: started.nonce,
      tid: d.tenants.primary.id,
      oid: d.users.member.id,
      preferred_username: d.users.member.username,
      name: d.users.member.displayName,
      ver: '2.0',
    });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(tokens.scope).toBe(d.apps.middleTierApi.scope);
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: d.apps.middleTierApi.app.clientId, scp: 'access_as_user', oid: d.users.member.id });
  });

  /** The error a promise rejects with (fails the test when it resolves). */
  async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => error,
    );
  }

  it('openid-client rejects a callback whose nonce or state is not the one it sent', async () => {
    const d = entra.defaults;
    const wrongNonce = await startSignIn();
    const wrongNonceCallback = await entra.signIn(wrongNonce.url.href, { username: d.users.member.username });
    const nonceFailure = await rejectionOf(
      authorizationCodeGrant(config, wrongNonceCallback, { pkceCodeVerifier: wrongNonce.verifier, expectedNonce: randomNonce(), expectedState: wrongNonce.state }),
    );
    expect(nonceFailure).toBeInstanceOf(ClientError);
    expect((nonceFailure as ClientError).code).toBe('OAUTH_JWT_CLAIM_COMPARISON_FAILED');
    expect(((nonceFailure as ClientError).cause as Error).message).toContain('"nonce"');

    const wrongState = await startSignIn();
    const wrongStateCallback = await entra.signIn(wrongState.url.href, { username: d.users.member.username });
    const stateFailure = await rejectionOf(
      authorizationCodeGrant(config, wrongStateCallback, { pkceCodeVerifier: wrongState.verifier, expectedNonce: wrongState.nonce, expectedState: randomState() }),
    );
    expect(stateFailure).toBeInstanceOf(ClientError);
    expect(((stateFailure as ClientError).cause as Error).message).toContain('"state"');
  });

  it('a wrong PKCE verifier surfaces as Entra’s invalid_grant AADSTS501481 through openid-client', async () => {
    const d = entra.defaults;
    const started = await startSignIn();
    const callback = await entra.signIn(started.url.href, { username: d.users.member.username });
    const failure = await rejectionOf(
      authorizationCodeGrant(config, callback, { pkceCodeVerifier: randomPKCECodeVerifier(), expectedNonce: started.nonce, expectedState: started.state }),
    );
    expect(failure).toBeInstanceOf(ResponseBodyError);
    const { error, error_description: description, status } = failure as ResponseBodyError;
    expect({ error, status }).toEqual({ error: 'invalid_grant', status: 400 });
    expect(description).toMatch(/^AADSTS501481: /);
  });

  it('refreshTokenGrant: new access and refresh tokens, and an ID token openid-client accepts', async () => {
    const d = entra.defaults;
    const started = await startSignIn();
    const callback = await entra.signIn(started.url.href, { username: d.users.member.username });
    const signedIn = await authorizationCodeGrant(config, callback, { pkceCodeVerifier: started.verifier, expectedNonce: started.nonce, expectedState: started.state });

    const refreshed = await refreshTokenGrant(config, signedIn.refresh_token!, { scope: scope() });

    expect(refreshed.access_token).not.toBe(signedIn.access_token);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(signedIn.refresh_token);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ aud: d.apps.middleTierApi.app.clientId, oid: d.users.member.id, scp: 'access_as_user' });
    expect(refreshed.claims()).toMatchObject({
      iss: entra.issuer(d.tenants.primary.id),
      aud: d.apps.webApp.app.clientId,
      sub: signedIn.claims()!.sub,
      oid: d.users.member.id,
    });
  });

  it('Entra does not revoke a refresh token when it is redeemed: the old one still works after a refresh', async () => {
    // learn.microsoft.com/entra/identity-platform/refresh-tokens: "The Microsoft identity platform doesn't revoke old
    // refresh tokens when used to fetch new access tokens." Clients that race two refreshes rely on it.
    const d = entra.defaults;
    const started = await startSignIn();
    const callback = await entra.signIn(started.url.href, { username: d.users.member.username });
    const signedIn = await authorizationCodeGrant(config, callback, { pkceCodeVerifier: started.verifier, expectedNonce: started.nonce, expectedState: started.state });

    await refreshTokenGrant(config, signedIn.refresh_token!, { scope: scope() });
    const again = await refreshTokenGrant(config, signedIn.refresh_token!, { scope: scope() });
    expect(decodeJwt(again.access_token)).toMatchObject({ oid: d.users.member.id });
  });

  it('response_mode=form_post: entra.signIn reports the posted fields on the redirect URI, and openid-client redeems them as a POST', async () => {
    const d = entra.defaults;
    const started = await startSignIn({ response_mode: 'form_post' });
    const reported = await entra.signIn(started.url.href, { username: d.users.member.username });

    expect(reported.origin + reported.pathname).toBe(REDIRECT_URI);
    expect(reported.searchParams.get('state')).toBe(started.state);
    expect(reported.searchParams.get('code')).toEqual(expect.any(String));
    expect(reported.searchParams.get('client_info')).toEqual(expect.any(String));

    // What the browser would deliver: a form POST of those fields to the redirect URI.
    const posted = new Request(REDIRECT_URI, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: reported.searchParams.toString(),
    });
    const tokens = await authorizationCodeGrant(config, posted, { pkceCodeVerifier: started.verifier, expectedNonce: started.nonce, expectedState: started.state });
    expect(tokens.claims()).toMatchObject({ nonce: started.nonce, oid: d.users.member.id });
  });

  it('a guest signs in at the resource tenant: the ID token names the guest object and its home identity provider', async () => {
    const d = entra.defaults;
    const started = await startSignIn();
    // Dave picks his guest account on Contoso's account picker.
    const callback = await entra.signIn(started.url.href, { username: d.users.guest.username });
    const tokens = await authorizationCodeGrant(config, callback, { pkceCodeVerifier: started.verifier, expectedNonce: started.nonce, expectedState: started.state });
    expect(tokens.claims()).toMatchObject({
      tid: d.tenants.primary.id,
      oid: d.users.guest.id,
      idp: `https://sts.windows.net/${d.tenants.secondary.id}/`,
    });
  });
});
