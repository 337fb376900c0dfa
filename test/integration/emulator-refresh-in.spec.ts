import type { AuthenticationResult } from '@azure/msal-node';
import { userToken, useEmulator } from '../support/emulator.js';
import { postForm } from './entra-http-kit.js';
import { signedInToWebApp, webAppClient } from './msal-sign-in-kit.js';
import { confidentialClient } from './msal-test-kit.js';

// Entra answers long-lived access tokens with `refresh_in` beside `expires_in` (proactive refresh, "an ESTS resiliency
// feature": AzureAD/microsoft-authentication-library-for-js#6085). The emulator sends half the life for tokens that
// live longer than two hours, the rule msal-node and MSAL.NET apply when a source sends none (see
// src/testing/emulator/token-lifetimes.ts). msal-common turns it into the cached token's `refreshOn` and the result's
// `refreshOn`: `refreshOnSeconds = reqTimestamp + refresh_in`, beside `expiresOn = reqTimestamp + expires_in`
// (@azure/msal-common dist/response/ResponseHandler.mjs), so the two differ by exactly expires_in - refresh_in.
const LONG_LIFETIME_SEC = 24 * 3600;
const SHORT_LIFETIME_SEC = 7200;

/** Seconds from `refreshOn` to `expiresOn` of an msal result; undefined when msal reports no `refreshOn`. */
function refreshAheadOfExpirySec(result: AuthenticationResult | null): number | undefined {
  if (!result?.refreshOn) return undefined;
  return (result.expiresOn!.getTime() - result.refreshOn.getTime()) / 1000;
}

describe('refresh_in for long-lived tokens: real msal-node reads it as refreshOn', () => {
  describe('tokens that live 24 hours', () => {
    const entra = useEmulator({ tokenLifetimes: { accessTokenSec: LONG_LIFETIME_SEC } });

    it('client credentials: refreshOn is half the life ahead of expiry', async () => {
      const d = entra.defaults;
      const result = await confidentialClient(entra).acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope] });
      expect(refreshAheadOfExpirySec(result)).toBe(LONG_LIFETIME_SEC / 2);
    });

    it('On-Behalf-Of: refreshOn is set on the downstream token', async () => {
      const d = entra.defaults;
      const result = await confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra), scopes: [d.apps.downstreamApi.scopes.read] });
      expect(refreshAheadOfExpirySec(result)).toBe(LONG_LIFETIME_SEC / 2);
    });

    it('authorization code and refresh token: refreshOn is set on both', async () => {
      const d = entra.defaults;
      const { result, refreshToken } = await signedInToWebApp(entra);
      expect(refreshAheadOfExpirySec(result)).toBe(LONG_LIFETIME_SEC / 2);
      const refreshed = await webAppClient(entra).acquireTokenByRefreshToken({ refreshToken, scopes: [d.apps.middleTierApi.scope] });
      expect(refreshAheadOfExpirySec(refreshed)).toBe(LONG_LIFETIME_SEC / 2);
    });

    it('the v1 endpoint sends refresh_in as a string, like its other numbers', async () => {
      const d = entra.defaults;
      const response = await postForm(entra, `${entra.authorityHost}/${d.tenants.primary.id}/oauth2/token`, {
        grant_type: 'client_credentials',
        client_id: d.apps.daemon.app.clientId,
        client_secret: d.apps.daemon.clientSecret,
        resource: d.apps.downstreamApi.app.identifierUris[0]!,
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ expires_in: String(LONG_LIFETIME_SEC), refresh_in: String(LONG_LIFETIME_SEC / 2) });
    });
  });

  describe('tokens that live two hours', () => {
    const entra = useEmulator({ tokenLifetimes: { accessTokenSec: SHORT_LIFETIME_SEC } });

    it('carry no refresh_in: msal reports no refreshOn', async () => {
      const d = entra.defaults;
      const appToken = await confidentialClient(entra).acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope] });
      expect(appToken?.expiresOn).toBeInstanceOf(Date);
      expect(appToken?.refreshOn).toBeUndefined();
      const obo = await confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await userToken(entra), scopes: [d.apps.downstreamApi.scopes.read] });
      expect(obo?.refreshOn).toBeUndefined();
    });

    it('and the raw response has no refresh_in member', async () => {
      const d = entra.defaults;
      const response = await postForm(entra, `${entra.authorityHost}/${d.tenants.primary.id}/oauth2/v2.0/token`, {
        grant_type: 'client_credentials',
        client_id: d.apps.daemon.app.clientId,
        client_secret: d.apps.daemon.clientSecret,
        scope: d.apps.downstreamApi.defaultScope,
      });
      const body = (await response.json()) as Record<string, unknown>;
      expect(body.expires_in).toBe(SHORT_LIFETIME_SEC);
      expect(body).not.toHaveProperty('refresh_in');
    });
  });
});
