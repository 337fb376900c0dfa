import { randomUUID } from 'node:crypto';
import { CryptoProvider, type AuthenticationResult, type ConfidentialClientApplication } from '@azure/msal-node';
import { useEmulator } from '../support/emulator.js';
import { claimsOf, confidentialClient } from './msal-test-kit.js';

/**
 * Authentication contexts, as Entra handles them
 * (https://learn.microsoft.com/entra/identity-platform/developer-guide-conditional-access-authentication-context):
 * a resource API that needs context `c1` answers 401 with claims `{"access_token":{"acrs":{"essential":true,
 * "value":"c1"}}}`; the client signs the user in again with that `claims` parameter; a Conditional Access policy that
 * targets `c1` decides what the sign-in must satisfy (here: a second factor), and the new access token carries
 * `acrs: ["c1"]`. The guide's table ("ACRS requested / Policy applied / Control satisfied / ACRS added to claims"):
 * a requested context that no policy targets is added without a prompt; one whose policy is not satisfied is not.
 */
const C1_REQUEST = JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } });
const pkce = new CryptoProvider();

describe('authentication context step-up: real msal-node against the emulator', () => {
  const entra = useEmulator();

  function webApp(): ConfidentialClientApplication {
    const { webApp: web } = entra.defaults.apps;
    return confidentialClient(entra, { clientId: web.app.clientId, credential: { clientSecret: web.clientSecret } });
  }

  /** The authorization code flow of a web app, with the claims request when given; the scripted browser signs in. */
  async function signIn(options: { claims?: string; completeSecondFactor?: boolean; msal?: ConfidentialClientApplication } = {}): Promise<AuthenticationResult> {
    const d = entra.defaults;
    const msal = options.msal ?? webApp();
    const { verifier, challenge } = await pkce.generatePkceCodes();
    const state = randomUUID();
    const request = { scopes: [d.apps.middleTierApi.scope], redirectUri: d.apps.webApp.redirectUri, ...(options.claims ? { claims: options.claims } : {}) };
    const url = await msal.getAuthCodeUrl({ ...request, codeChallenge: challenge, codeChallengeMethod: 'S256', state });
    const redirect = await entra.signIn(url, {
      username: d.users.member.username,
      ...(options.completeSecondFactor === undefined ? {} : { completeSecondFactor: options.completeSecondFactor }),
    });
    const code = redirect.searchParams.get('code')!;
    return msal.acquireTokenByCode(
      { ...request, code, codeVerifier: verifier, state },
      { code, state: redirect.searchParams.get('state') ?? undefined, client_info: redirect.searchParams.get('client_info') ?? undefined },
    );
  }

  it('a sign-in without a claims request gets a token without acrs', async () => {
    expect(claimsOf((await signIn()).accessToken).acrs).toBeUndefined();
  });

  it('with a policy on c1, a sign-in asking for c1 must pass the second factor, and the token carries acrs ["c1"]', async () => {
    entra.policies.requireAuthenticationContext({ context: 'c1' });

    // The scripted browser stops where the page asks for the second factor.
    await expect(signIn({ claims: C1_REQUEST, completeSecondFactor: false })).rejects.toThrow(/second factor is required/);

    const stepped = await signIn({ claims: C1_REQUEST });
    expect(claimsOf(stepped.accessToken)).toMatchObject({ acrs: ['c1'], oid: entra.defaults.users.member.id });
    // The policy binds only c1: a sign-in that does not ask for it is not prompted and carries no acrs.
    expect(claimsOf((await signIn({ completeSecondFactor: false })).accessToken).acrs).toBeUndefined();
  });

  it('a policy on another context, or for other users, does not prompt; the requested c1 is added as satisfied', async () => {
    entra.policies.requireAuthenticationContext({ context: 'c2' });
    entra.policies.requireAuthenticationContext({ context: 'c1', users: [entra.defaults.users.mfaUser.id] });

    const result = await signIn({ claims: C1_REQUEST, completeSecondFactor: false });
    expect(claimsOf(result.accessToken).acrs).toEqual(['c1']);
  });

  it('the refresh token of a stepped-up sign-in keeps the context for the tokens it brings', async () => {
    entra.policies.requireAuthenticationContext({ context: 'c1' });
    const msal = webApp();
    const first = await signIn({ claims: C1_REQUEST, msal });

    const refreshed = await msal.acquireTokenSilent({ account: first.account!, scopes: [entra.defaults.apps.middleTierApi.scope], forceRefresh: true });
    expect(refreshed.accessToken).not.toBe(first.accessToken);
    expect(claimsOf(refreshed.accessToken).acrs).toEqual(['c1']);
  });

  it('reset() drops an authentication-context policy a test added', async () => {
    entra.policies.requireAuthenticationContext({ context: 'c1' });
    await entra.reset();
    expect(entra.policies.all.authenticationContexts).toEqual([]);
    expect(claimsOf((await signIn({ claims: C1_REQUEST, completeSecondFactor: false })).accessToken).acrs).toEqual(['c1']);
  });
});
