import { randomUUID } from 'node:crypto';
import { ClientAuthError, CryptoProvider, InteractionRequiredAuthError, ServerError, type AuthenticationResult, type ConfidentialClientApplication } from '@azure/msal-node';
import { useEmulator } from '../support/emulator.js';
import { aadstsOf, claimsOf, confidentialClient, rejectionOf, serializedCache, tokenRequestsSince } from './msal-test-kit.js';

const pkce = new CryptoProvider();

describe('authorization code + PKCE, refresh and MFA step-up: real msal-node against the emulator', () => {
  const entra = useEmulator();

  function webApp(): ConfidentialClientApplication {
    const d = entra.defaults;
    return confidentialClient(entra, { clientId: d.apps.webApp.app.clientId, credential: { clientSecret: d.apps.webApp.clientSecret } });
  }

  interface SignedIn {
    msal: ConfidentialClientApplication;
    /** The redirect back to the web app, as the browser would deliver it. */
    redirect: URL;
    verifier: string;
    state: string;
    nonce: string;
  }

  /** The first leg: msal builds the authorize URL, the scripted browser signs `username` in and follows the redirect. */
  async function signIn(options: { username?: string; loginHint?: string; claims?: string; msal?: ConfidentialClientApplication } = {}): Promise<SignedIn & { authorizeUrl: URL }> {
    const d = entra.defaults;
    const msal = options.msal ?? webApp();
    const { verifier, challenge } = await pkce.generatePkceCodes();
    const state = randomUUID();
    const nonce = randomUUID();
    const url = await msal.getAuthCodeUrl({
      scopes: [d.apps.middleTierApi.scope],
      redirectUri: d.apps.webApp.redirectUri,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      state,
      nonce,
      ...(options.loginHint ? { loginHint: options.loginHint } : {}),
      ...(options.claims ? { claims: options.claims } : {}),
    });
    const redirect = await entra.signIn(url, options.username ? { username: options.username } : {});
    return { msal, redirect, verifier, state, nonce, authorizeUrl: new URL(url) };
  }

  /** The second leg, as a web app does it: code, verifier and nonce from the request, state checked against the redirect's. */
  function redeem(signedIn: SignedIn, overrides: { verifier?: string; nonce?: string | undefined } = {}): Promise<AuthenticationResult> {
    const d = entra.defaults;
    const code = signedIn.redirect.searchParams.get('code')!;
    return signedIn.msal.acquireTokenByCode(
      {
        code,
        redirectUri: d.apps.webApp.redirectUri,
        scopes: [d.apps.middleTierApi.scope],
        codeVerifier: overrides.verifier ?? signedIn.verifier,
        state: signedIn.state,
        ...('nonce' in overrides ? (overrides.nonce === undefined ? {} : { nonce: overrides.nonce }) : { nonce: signedIn.nonce }),
      },
      { code, state: signedIn.redirect.searchParams.get('state') ?? undefined, client_info: signedIn.redirect.searchParams.get('client_info') ?? undefined },
    );
  }

  function middleTierObo(assertion: string): Promise<AuthenticationResult | null> {
    return confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: assertion, scopes: [entra.defaults.apps.downstreamApi.scopes.read] });
  }

  it('signs a user in through the account picker, redeems the code, and the access token feeds OBO', async () => {
    const d = entra.defaults;
    const signedIn = await signIn({ username: d.users.member.username });

    const query = signedIn.authorizeUrl.searchParams;
    expect(signedIn.authorizeUrl.pathname).toBe(`/${d.tenants.primary.id}/oauth2/v2.0/authorize`);
    expect(query.get('client_id')).toBe(d.apps.webApp.app.clientId);
    expect(query.get('response_type')).toBe('code');
    expect(query.get('code_challenge_method')).toBe('S256');
    // msal-node 7 always asks for optional ID-token claims on the authorize URL; that is not a claims challenge.
    expect(JSON.parse(query.get('claims')!)).toEqual({
      id_token: { signin_state: { essential: false }, login_hint: { essential: false }, tenant_region_sub_scope: { essential: false } },
    });
    expect(query.get('scope')!.split(' ')).toEqual(expect.arrayContaining([d.apps.middleTierApi.scope, 'openid', 'profile', 'offline_access']));

    const back = signedIn.redirect;
    expect(`${back.origin}${back.pathname}`).toBe(d.apps.webApp.redirectUri);
    expect(back.searchParams.get('state')).toBe(signedIn.state);
    expect(JSON.parse(Buffer.from(back.searchParams.get('client_info')!, 'base64url').toString())).toEqual({ uid: d.users.member.id, utid: d.tenants.primary.id });

    const result = await redeem(signedIn);

    expect(claimsOf(result.accessToken)).toMatchObject({
      aud: d.apps.middleTierApi.app.clientId,
      azp: d.apps.webApp.app.clientId,
      scp: 'access_as_user',
      oid: d.users.member.id,
      tid: d.tenants.primary.id,
      ver: '2.0',
    });
    // v2 tokens carry no amr (access-token-claims-reference); ID tokens carry aio.
    expect(claimsOf(result.accessToken).amr).toBeUndefined();
    expect(claimsOf(result.idToken).amr).toBeUndefined();
    expect(claimsOf(result.idToken).aio).toEqual(expect.any(String));
    expect(claimsOf(result.idToken)).toMatchObject({ aud: d.apps.webApp.app.clientId, nonce: signedIn.nonce, oid: d.users.member.id });
    expect(claimsOf(result.idToken).scp).toBeUndefined();
    expect(result.account).toMatchObject({ homeAccountId: `${d.users.member.id}.${d.tenants.primary.id}`, username: d.users.member.username });
    expect(Object.values(serializedCache(signedIn.msal).RefreshToken)).toHaveLength(1);

    const downstream = await middleTierObo(result.accessToken);
    expect(claimsOf(downstream!.accessToken)).toMatchObject({ aud: d.apps.downstreamApi.app.clientId, oid: d.users.member.id });
  });

  it('signs the login_hint user in directly, without the account picker', async () => {
    const d = entra.defaults;
    const authorizeBefore = entra.requests.filter((request) => request.endpoint === 'authorize').length;

    const signedIn = await signIn({ loginHint: d.users.member.username });

    expect(signedIn.authorizeUrl.searchParams.get('login_hint')).toBe(d.users.member.username);
    expect(entra.requests.filter((request) => request.endpoint === 'authorize').length - authorizeBefore).toBe(1);
    expect(claimsOf((await redeem(signedIn)).accessToken).oid).toBe(d.users.member.id);
  });

  it('a B2B guest signing in with the home account gets a token for the guest object in this tenant, usable for OBO there', async () => {
    const d = entra.defaults;

    const signedIn = await signIn({ loginHint: d.users.secondTenantMember.username });
    const result = await redeem(signedIn);

    expect(claimsOf(result.accessToken)).toMatchObject({
      oid: d.users.guest.id,
      tid: d.tenants.primary.id,
      idp: `https://sts.windows.net/${d.tenants.secondary.id}/`,
    });
    expect(result.account?.homeAccountId).toBe(`${d.users.guest.id}.${d.tenants.primary.id}`);
    const downstream = await middleTierObo(result.accessToken);
    expect(claimsOf(downstream!.accessToken)).toMatchObject({ oid: d.users.guest.id, tid: d.tenants.primary.id });
  });

  it('binds the ID token to the nonce: a different nonce, or none at all, is a nonce_mismatch in msal', async () => {
    const d = entra.defaults;

    const wrongNonce = await rejectionOf(redeem(await signIn({ username: d.users.member.username }), { nonce: randomUUID() }));
    expect(wrongNonce).toBeInstanceOf(ClientAuthError);
    expect(wrongNonce.errorCode).toBe('nonce_mismatch');

    const noNonce = await rejectionOf(redeem(await signIn({ username: d.users.member.username }), { nonce: undefined }));
    expect(noNonce).toBeInstanceOf(ClientAuthError);
    expect(noNonce.errorCode).toBe('nonce_mismatch');
  });

  it('a wrong PKCE verifier: invalid_grant 501481', async () => {
    const d = entra.defaults;
    const other = await pkce.generatePkceCodes();

    const error = await rejectionOf(redeem(await signIn({ username: d.users.member.username }), { verifier: other.verifier }));

    expect(error).toBeInstanceOf(ServerError);
    expect(error.errorCode).toBe('invalid_grant');
    expect(aadstsOf(error)).toBe('501481');
  });

  it('a code redeemed twice: invalid_grant 54005', async () => {
    const d = entra.defaults;
    const signedIn = await signIn({ username: d.users.member.username });
    await redeem(signedIn);

    const error = await rejectionOf(redeem({ ...signedIn, msal: webApp() }));

    expect(error).toBeInstanceOf(ServerError);
    expect(error.errorCode).toBe('invalid_grant');
    expect(aadstsOf(error)).toBe('54005');
  });

  describe('refresh tokens', () => {
    function refreshTokenIn(msal: ConfidentialClientApplication): string {
      const refreshTokens = Object.values(serializedCache(msal).RefreshToken);
      expect(refreshTokens).toHaveLength(1);
      return refreshTokens[0]!.secret;
    }

    /** Alice signed in to the web app: her msal client, the first access token and the refresh token msal keeps. */
    async function signedInMember(): Promise<{ msal: ConfidentialClientApplication; accessToken: string; refreshToken: string }> {
      const signedIn = await signIn({ username: entra.defaults.users.member.username });
      const { accessToken } = await redeem(signedIn);
      return { msal: signedIn.msal, accessToken, refreshToken: refreshTokenIn(signedIn.msal) };
    }

    it('a refresh returns a new access token and a new refresh token, which takes the old one’s place in msal’s cache', async () => {
      const d = entra.defaults;
      const { msal, accessToken: firstAccessToken, refreshToken: oldRefreshToken } = await signedInMember();
      const before = entra.tokenRequests().length;

      const refreshed = await msal.acquireTokenByRefreshToken({ refreshToken: oldRefreshToken, scopes: [d.apps.middleTierApi.scope] });

      expect(tokenRequestsSince(entra, before)).toEqual([expect.objectContaining({ grantType: 'refresh_token', clientId: d.apps.webApp.app.clientId, status: 200 })]);
      expect(refreshed!.accessToken).not.toBe(firstAccessToken);
      expect(claimsOf(refreshed!.accessToken)).toMatchObject({ oid: d.users.member.id, aud: d.apps.middleTierApi.app.clientId, scp: 'access_as_user' });
      const newRefreshToken = refreshTokenIn(msal);
      expect(newRefreshToken).not.toBe(oldRefreshToken);

      // The replacement works in its turn.
      const again = await webApp().acquireTokenByRefreshToken({ refreshToken: newRefreshToken, scopes: [d.apps.middleTierApi.scope] });
      expect(claimsOf(again!.accessToken).oid).toBe(d.users.member.id);
    });

    it('the old refresh token stays valid after a refresh: Entra does not revoke it on use', async () => {
      // learn.microsoft.com/entra/identity-platform/refresh-tokens: "Refresh tokens replace themselves with a fresh token
      // upon every use. The Microsoft identity platform doesn't revoke old refresh tokens when used to fetch new access
      // tokens." Apps must drop the old one themselves; a library must not rely on Entra refusing it.
      const d = entra.defaults;
      const { msal, refreshToken: oldRefreshToken } = await signedInMember();
      await msal.acquireTokenByRefreshToken({ refreshToken: oldRefreshToken, scopes: [d.apps.middleTierApi.scope] });

      const reused = await webApp().acquireTokenByRefreshToken({ refreshToken: oldRefreshToken, scopes: [d.apps.middleTierApi.scope] });

      expect(claimsOf(reused!.accessToken).oid).toBe(d.users.member.id);
    });

    it('revoking the user’s sessions invalidates the refresh token: invalid_grant', async () => {
      const d = entra.defaults;
      const { refreshToken } = await signedInMember();
      entra.revokeUserSessions(d.users.member);

      const error = await rejectionOf(webApp().acquireTokenByRefreshToken({ refreshToken, scopes: [d.apps.middleTierApi.scope] }));

      expect(error).toBeInstanceOf(ServerError);
      expect(error.errorCode).toBe('invalid_grant');
    });
  });

  it('MFA step-up: OBO answers with a claims challenge, signing in again with those claims adds mfa, and OBO then succeeds', async () => {
    const d = entra.defaults;
    const bob = d.users.mfaUser.username;

    // Bob signs in with a password only: the middle tier itself has no MFA policy.
    const firstToken = (await redeem(await signIn({ username: bob }))).accessToken;

    // The downstream API does: the middle tier's OBO is refused with a claims challenge.
    const challenge = await rejectionOf(middleTierObo(firstToken));
    expect(challenge).toBeInstanceOf(InteractionRequiredAuthError);
    expect(aadstsOf(challenge)).toBe('50076');
    const claims = (challenge as InteractionRequiredAuthError).claims;
    expect(claims).toContain('capolids');

    // The web app sends Bob back to sign in with the challenge; the sign-in page now asks for a second factor.
    const msal = webApp();
    const { challenge: codeChallenge } = await pkce.generatePkceCodes();
    const challengedUrl = await msal.getAuthCodeUrl({
      scopes: [d.apps.middleTierApi.scope],
      redirectUri: d.apps.webApp.redirectUri,
      codeChallenge,
      codeChallengeMethod: 'S256',
      claims,
    });
    // msal forwards the challenge, merged with id_token claims of its own (login_hint, signin_state, ...).
    expect(JSON.parse(new URL(challengedUrl).searchParams.get('claims')!)).toMatchObject(JSON.parse(claims) as object);
    await expect(entra.signIn(challengedUrl, { username: bob, completeSecondFactor: false })).rejects.toThrow('second factor');

    const steppedUp = await signIn({ username: bob, claims, msal });
    const mfaToken = (await redeem(steppedUp)).accessToken;
    // Nothing in the v2 token says MFA: Entra keeps it with the sign-in, and the OBO that failed now succeeds.
    expect(claimsOf(mfaToken).amr).toBeUndefined();

    const downstream = await middleTierObo(mfaToken);
    expect(claimsOf(downstream!.accessToken)).toMatchObject({ oid: d.users.mfaUser.id, aud: d.apps.downstreamApi.app.clientId });
  });
});
