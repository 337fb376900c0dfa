// A user signed in to the default web app with real msal-node, for specs that need a refresh token from a sign-in.
import { randomUUID } from 'node:crypto';
import { CryptoProvider, type AuthenticationResult, type ConfidentialClientApplication } from '@azure/msal-node';
import type { EntraEmulator } from '../../src/testing/index.js';
import { confidentialClient, serializedCache } from './msal-test-kit.js';

/** The default web app as msal-node sees it, on its own secret. */
export function webAppClient(entra: EntraEmulator): ConfidentialClientApplication {
  const { webApp } = entra.defaults.apps;
  return confidentialClient(entra, { clientId: webApp.app.clientId, credential: { clientSecret: webApp.clientSecret } });
}

/**
 * `username` (Alice by default) signs in to the web app for the middle tier's scope through the emulator's pages,
 * and msal redeems the code (PKCE, state checked): the result and the refresh token msal keeps in its cache.
 */
export async function signedInToWebApp(entra: EntraEmulator, username = entra.defaults.users.member.username): Promise<{ result: AuthenticationResult; refreshToken: string }> {
  const d = entra.defaults;
  const msal = webAppClient(entra);
  const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
  const state = randomUUID();
  const url = await msal.getAuthCodeUrl({ scopes: [d.apps.middleTierApi.scope], redirectUri: d.apps.webApp.redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256', state });
  const redirect = await entra.signIn(url, { username });
  const code = redirect.searchParams.get('code')!;
  const result = await msal.acquireTokenByCode(
    { code, redirectUri: d.apps.webApp.redirectUri, scopes: [d.apps.middleTierApi.scope], codeVerifier: verifier, state },
    { code, state, client_info: redirect.searchParams.get('client_info') ?? undefined },
  );
  const refreshTokens = Object.values(serializedCache(msal).RefreshToken);
  if (refreshTokens.length !== 1) throw new Error(`Expected one refresh token in msal's cache after the sign-in, found ${refreshTokens.length}`);
  return { result, refreshToken: refreshTokens[0]!.secret };
}
