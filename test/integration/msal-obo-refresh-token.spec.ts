import { InteractionRequiredAuthError, ServerError, type ConfidentialClientApplication } from '@azure/msal-node';
import { userToken, useEmulator } from '../support/emulator.js';
import { signedInToWebApp, webAppClient } from './msal-sign-in-kit.js';
import { aadstsOf, claimsOf, confidentialClient, rejectionOf, serializedCache } from './msal-test-kit.js';

// A refresh token from On-Behalf-Of, as Entra treats it:
// - msal-node asks for `offline_access` on every OBO request (msal-common adds the OIDC default scopes in
//   RequestParameterBuilder.addScopes), so Entra's response carries a refresh token, which msal keeps in the client's
//   token cache only (the AuthenticationResult does not expose it).
// - Refresh tokens "are bound to a combination of user and client, but aren't tied to a resource or tenant. A client
//   can use a refresh token to acquire access tokens across any combination of resource and tenant where it has
//   permission to do so" (https://learn.microsoft.com/entra/identity-platform/refresh-tokens). Redeeming one is not
//   interactive: the middle tier has nobody to prompt, so consent is judged as On-Behalf-Of judges it (an API
//   permission or pre-authorisation for every scope: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow),
//   and Conditional Access still applies with the MFA state of the user's sign-in.
// - Refresh tokens live 90 days outside single-page apps, each use bringing a new one; "revoke sessions" revokes them
//   (AADSTS50173), and one unused for its lifetime is expired (AADSTS700082, "expired due to inactivity").
describe('refresh tokens born from On-Behalf-Of: real msal-node against the emulator', () => {
  const entra = useEmulator({ tokenLifetimes: { accessTokenSec: 3600 } });

  /** The refresh token msal keeps after the middle tier's exchange of `assertion` for `scopes`. */
  async function oboRefreshToken(assertion: string, scopes: string[] = [entra.defaults.apps.downstreamApi.scopes.read]): Promise<{ msal: ConfidentialClientApplication; refreshToken: string }> {
    const msal = confidentialClient(entra);
    await msal.acquireTokenOnBehalfOf({ oboAssertion: assertion, scopes });
    const refreshTokens = Object.values(serializedCache(msal).RefreshToken);
    expect(refreshTokens).toHaveLength(1);
    return { msal, refreshToken: refreshTokens[0]!.secret };
  }

  /** The middle tier redeeming `refreshToken` with a fresh msal client, as another instance would hours later. */
  const redeem = (refreshToken: string, scopes: string[]) => confidentialClient(entra).acquireTokenByRefreshToken({ refreshToken, scopes });

  it('is redeemed by the middle tier, hours after the user token expired, for the same and another consented resource', async () => {
    const d = entra.defaults;
    const assertion = await userToken(entra);
    const { refreshToken } = await oboRefreshToken(assertion);

    entra.clock.advanceSec(3 * 3600);
    // The user's own token is long expired: a new exchange of it is refused (AADSTS500133)...
    const expired = await rejectionOf(confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: assertion, scopes: [d.apps.downstreamApi.scopes.read] }));
    expect(aadstsOf(expired)).toBe('500133');

    // ...while the refresh token still brings tokens for the user, issued now.
    const downstream = await redeem(refreshToken, [d.apps.downstreamApi.scopes.write]);
    expect(claimsOf(downstream!.accessToken)).toMatchObject({ aud: d.apps.downstreamApi.app.clientId, azp: d.apps.middleTierApi.app.clientId, oid: d.users.member.id, scp: 'Profile.Write' });
    expect(claimsOf(downstream!.accessToken).exp).toBe(entra.clock.nowSec() + 3600);
    const graph = await redeem(refreshToken, [d.apps.microsoftGraph.scopes.userRead]);
    // Microsoft Graph's tokens are v1: `aud` is its App ID URI.
    expect(claimsOf(graph!.accessToken)).toMatchObject({ aud: 'https://graph.microsoft.com', oid: d.users.member.id, scp: 'User.Read' });
  });

  it('is bound to the middle tier: another client presenting it gets invalid_grant', async () => {
    const d = entra.defaults;
    const { refreshToken } = await oboRefreshToken(await userToken(entra));
    const error = await rejectionOf(webAppClient(entra).acquireTokenByRefreshToken({ refreshToken, scopes: [d.apps.middleTierApi.scope] }));

    expect(error).toBeInstanceOf(ServerError);
    expect(error.errorCode).toBe('invalid_grant');
  });

  it('is judged without a prompt: a scope the middle tier has no permission for is consent_required (65001)', async () => {
    const d = entra.defaults;
    const reports = entra.directory.addApp({ displayName: 'Contoso Reports API', tenantId: d.tenants.primary.id, scopes: ['Reports.Read'] });
    const reportsScope = `${reports.identifierUris[0]}/Reports.Read`;
    const { refreshToken } = await oboRefreshToken(await userToken(entra));

    const error = await rejectionOf(redeem(refreshToken, [reportsScope]));

    expect(aadstsOf(error)).toBe('65001');
    expect(error.errorMessage).toContain(d.apps.middleTierApi.app.clientId);
    // A refresh token from the user's own sign-in is judged as that sign-in was: the user was there to consent, so
    // the web app (with no permission on the Reports API either) gets the token.
    const { refreshToken: fromSignIn } = await signedInToWebApp(entra);
    const reportsToken = await webAppClient(entra).acquireTokenByRefreshToken({ refreshToken: fromSignIn, scopes: [reportsScope] });
    expect(claimsOf(reportsToken!.accessToken)).toMatchObject({ aud: reports.clientId, scp: 'Reports.Read' });
  });

  it("keeps the sign-in's MFA state: a password-only sign-in cannot reach an MFA-protected API through it, an MFA one can", async () => {
    const d = entra.defaults;
    const bob = d.users.mfaUser;
    // The downstream API requires MFA of Bob; Microsoft Graph does not, so an exchange for Graph brings a refresh token.
    const passwordOnly = await oboRefreshToken(await userToken(entra, bob), [d.apps.microsoftGraph.scopes.userRead]);

    const challenge = await rejectionOf(redeem(passwordOnly.refreshToken, [d.apps.downstreamApi.scopes.read]));
    expect(challenge).toBeInstanceOf(InteractionRequiredAuthError);
    expect(aadstsOf(challenge)).toBe('50076');

    const withMfa = await oboRefreshToken(await userToken(entra, bob, { amr: ['pwd', 'mfa'] }), [d.apps.microsoftGraph.scopes.userRead]);
    const downstream = await redeem(withMfa.refreshToken, [d.apps.downstreamApi.scopes.read]);
    expect(claimsOf(downstream!.accessToken)).toMatchObject({ aud: d.apps.downstreamApi.app.clientId, oid: bob.id });
  });

  it("is revoked by entra.revokeUserSessions(user): invalid_grant AADSTS50173, and a new exchange brings a working one", async () => {
    const d = entra.defaults;
    const { refreshToken } = await oboRefreshToken(await userToken(entra));
    entra.revokeUserSessions(d.users.member);

    const error = await rejectionOf(redeem(refreshToken, [d.apps.downstreamApi.scopes.read]));

    expect(error).toBeInstanceOf(ServerError);
    expect(error.errorCode).toBe('invalid_grant');
    expect(aadstsOf(error)).toBe('50173');
    // Revocation covers what was issued before it; the user's next request starts afresh.
    const fresh = await oboRefreshToken(await userToken(entra));
    expect(claimsOf((await redeem(fresh.refreshToken, [d.apps.downstreamApi.scopes.read]))!.accessToken).oid).toBe(d.users.member.id);
  });

  it('expires after 90 days unused (AADSTS700082), while each use brings a new one with a fresh 90 days', async () => {
    const d = entra.defaults;
    const { refreshToken } = await oboRefreshToken(await userToken(entra));
    const day = 86_400;

    // Used on day 80: the answer's new refresh token lives 90 days from then.
    entra.clock.advanceSec(80 * day);
    const renewing = confidentialClient(entra);
    // forceCache: msal stores a refresh response only for an account already in its cache, unless told to.
    await renewing.acquireTokenByRefreshToken({ refreshToken, scopes: [d.apps.downstreamApi.scopes.read], forceCache: true });
    const renewed = Object.values(serializedCache(renewing).RefreshToken)[0]!.secret;
    expect(renewed).not.toBe(refreshToken);

    entra.clock.advanceSec(10 * day);
    const error = await rejectionOf(redeem(refreshToken, [d.apps.downstreamApi.scopes.read]));
    expect(error.errorCode).toBe('invalid_grant');
    expect(aadstsOf(error)).toBe('700082');
    expect(error.errorMessage).toContain('inactive for 90.00:00:00');

    expect(claimsOf((await redeem(renewed, [d.apps.downstreamApi.scopes.read]))!.accessToken).oid).toBe(d.users.member.id);
  });
});
