// The default web app as the emulator's HTTP specs drive it by hand: its registered redirect URI and the form that
// redeems its authorization code.
import type { EntraEmulator } from '../../src/testing/index.js';

/** The redirect URI the default web app signs users in with (registered as a loopback URI, any port). */
export const WEB_APP_REDIRECT_URI = 'http://localhost:3000/auth/callback';

/**
 * The web app redeeming `code`: its secret in the form, the PKCE `verifier`, and by default the middle tier's scope
 * with `openid offline_access` (so the answer carries an ID token and a refresh token).
 */
export function webAppCodeRedemption(entra: EntraEmulator, code: string, verifier: string, scope = `openid offline_access ${entra.defaults.apps.middleTierApi.scope}`): Record<string, string> {
  const { webApp } = entra.defaults.apps;
  return {
    grant_type: 'authorization_code',
    client_id: webApp.app.clientId,
    client_secret: webApp.clientSecret,
    code,
    redirect_uri: WEB_APP_REDIRECT_URI,
    code_verifier: verifier,
    scope,
  };
}
