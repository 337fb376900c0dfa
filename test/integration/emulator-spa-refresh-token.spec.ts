import type { EmulatorApp } from '../../src/testing/index.js';
import { useEmulator } from '../support/emulator.js';
import { authorizeUrl, entraErrorOf, expectEntraError, pkcePair, postForm, requestTokens, tokenEndpoint } from './entra-http-kit.js';

// https://learn.microsoft.com/entra/identity-platform/refresh-tokens: "Refresh tokens sent to a redirect URI
// registered as spa expire after 24 hours. Additional refresh tokens acquired using the initial refresh token carry
// over that expiration time, so apps must be prepared to rerun the authorization code flow". Entra then answers
// AADSTS700084 ("The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime
// of 1.00:00:00, which cannot be extended").
describe('refresh tokens of a single-page app: 24 hours from the sign-in, not extended by use', () => {
  const entra = useEmulator();
  const SPA_REDIRECT = 'http://localhost:5173/spa';
  let spa: EmulatorApp;

  beforeEach(() => {
    const d = entra.defaults;
    spa = entra.directory.addApp({ displayName: 'Contoso SPA', tenantId: d.tenants.primary.id, spaRedirectUris: ['http://localhost/spa'], apiPermissions: { [d.apps.middleTierApi.app.clientId]: ['access_as_user'] } });
  });

  async function spaRefreshToken(): Promise<string> {
    const d = entra.defaults;
    const { verifier, challenge } = pkcePair();
    const scope = `openid offline_access ${d.apps.middleTierApi.scope}`;
    const callback = await entra.signIn(
      authorizeUrl(entra, d.tenants.primary.id, { client_id: spa.clientId, response_type: 'code', redirect_uri: SPA_REDIRECT, scope, code_challenge: challenge, code_challenge_method: 'S256' }),
      { username: d.users.member.username },
    );
    const tokens = await requestTokens(entra, d.tenants.primary.id, { grant_type: 'authorization_code', client_id: spa.clientId, code: callback.searchParams.get('code')!, redirect_uri: SPA_REDIRECT, code_verifier: verifier });
    return tokens.refresh_token!;
  }

  const refresh = (refreshToken: string) =>
    postForm(entra, tokenEndpoint(entra, entra.defaults.tenants.primary.id), { grant_type: 'refresh_token', client_id: spa.clientId, refresh_token: refreshToken, scope: entra.defaults.apps.middleTierApi.scope });

  it('a refresh 23 hours in brings a new refresh token that still ends 24 hours after the sign-in (AADSTS700084)', async () => {
    const first = await spaRefreshToken();
    entra.clock.advanceSec(23 * 3600);
    const refreshed = await refresh(first);
    expect(refreshed.status).toBe(200);
    // The refresh asked for no offline_access: the answer still carries the replacement, as Entra's does.
    const second = ((await refreshed.json()) as { refresh_token?: string }).refresh_token!;
    expect(second).toMatch(/^1\./);
    expect(second).not.toBe(first);

    entra.clock.advanceSec(3600);
    const { status, body } = await entraErrorOf(await refresh(second));
    expect(status).toBe(400);
    expectEntraError(body, 'invalid_grant', 700084);
    expect(body.error_description).toContain('fixed, limited lifetime of 1.00:00:00');
  });

  it('a web app refresh token, by contrast, outlives 24 hours (90 days)', async () => {
    const d = entra.defaults;
    const { verifier, challenge } = pkcePair();
    const callback = await entra.signIn(
      authorizeUrl(entra, d.tenants.primary.id, { client_id: d.apps.webApp.app.clientId, response_type: 'code', redirect_uri: d.apps.webApp.redirectUri, scope: `offline_access ${d.apps.middleTierApi.scope}`, code_challenge: challenge, code_challenge_method: 'S256' }),
      { username: d.users.member.username },
    );
    const credentials = { client_id: d.apps.webApp.app.clientId, client_secret: d.apps.webApp.clientSecret };
    const tokens = await requestTokens(entra, d.tenants.primary.id, { grant_type: 'authorization_code', ...credentials, code: callback.searchParams.get('code')!, redirect_uri: d.apps.webApp.redirectUri, code_verifier: verifier });

    entra.clock.advanceSec(89 * 86_400);
    const refreshed = await requestTokens(entra, d.tenants.primary.id, { grant_type: 'refresh_token', ...credentials, refresh_token: tokens.refresh_token!, scope: d.apps.middleTierApi.scope });
    expect(refreshed.access_token).toEqual(expect.any(String));
    entra.clock.advanceSec(86_400);
    const { body } = await entraErrorOf(await postForm(entra, tokenEndpoint(entra, d.tenants.primary.id), { grant_type: 'refresh_token', ...credentials, refresh_token: tokens.refresh_token!, scope: d.apps.middleTierApi.scope }));
    expectEntraError(body, 'invalid_grant', 700082);
  });
});
