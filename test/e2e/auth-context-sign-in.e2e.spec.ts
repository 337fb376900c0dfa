import { randomUUID } from 'node:crypto';
import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { CryptoProvider, type ConfidentialClientApplication } from '@azure/msal-node';
import { CurrentUser, OboAuthGuard, OboModule, RequireAuthContext, parseWwwAuthenticate, type EntraPrincipal } from '../../src/index.js';
import { useEmulator } from '../support/emulator.js';
import { confidentialClient } from '../integration/msal-test-kit.js';
import { get } from './support/http-calls.js';
import { startNestApp } from './support/nest-app.js';
import { ADAPTERS, middleTierOptions } from './support/test-app.js';

@Controller('transfers')
@UseGuards(OboAuthGuard)
class TransfersController {
  @Get()
  list(@CurrentUser() user: EntraPrincipal) {
    return { oid: user.oid };
  }

  @Get('approve')
  @RequireAuthContext('c1')
  approve(@CurrentUser() user: EntraPrincipal) {
    return { approvedBy: user.oid, acrs: user.claims.acrs };
  }
}

const pkce = new CryptoProvider();

/**
 * `@RequireAuthContext` end to end with a real sign-in: the web app (msal-node, authorization code + PKCE) signs the
 * user in, the API refuses the route with 401 `insufficient_claims` and the claims request for `c1`, the web app hands
 * those claims to a new sign-in, Conditional Access (a policy on `c1`) asks for the second factor, and the new token
 * passes. The flow is Entra's
 * (https://learn.microsoft.com/entra/identity-platform/developer-guide-conditional-access-authentication-context:
 * the API "challenges the client" with the acrs claims request; the client passes it in the `claims` parameter).
 */
describe.each(ADAPTERS)('@RequireAuthContext with a real sign-in on %s', (adapter) => {
  const entra = useEmulator();
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    @Module({ imports: [OboModule.forRoot(middleTierOptions(entra))], controllers: [TransfersController] })
    class AuthContextAppModule {}
    const started = await startNestApp(AuthContextAppModule, adapter);
    url = started.url;
    close = () => started.app.close();
  });
  afterAll(() => close());

  function webApp(): ConfidentialClientApplication {
    const { webApp: web } = entra.defaults.apps;
    return confidentialClient(entra, { clientId: web.app.clientId, credential: { clientSecret: web.clientSecret } });
  }

  /** The web app's sign-in for the API, with the claims request a challenge handed it; returns the access token. */
  async function signIn(claims?: string, completeSecondFactor = true): Promise<string> {
    const d = entra.defaults;
    const msal = webApp();
    const { verifier, challenge } = await pkce.generatePkceCodes();
    const state = randomUUID();
    const request = { scopes: [d.apps.middleTierApi.scope], redirectUri: d.apps.webApp.redirectUri, ...(claims ? { claims } : {}) };
    const redirect = await entra.signIn(await msal.getAuthCodeUrl({ ...request, codeChallenge: challenge, codeChallengeMethod: 'S256', state }), {
      username: d.users.member.username,
      completeSecondFactor,
    });
    const code = redirect.searchParams.get('code')!;
    const result = await msal.acquireTokenByCode(
      { ...request, code, codeVerifier: verifier, state },
      { code, state: redirect.searchParams.get('state') ?? undefined, client_info: redirect.searchParams.get('client_info') ?? undefined },
    );
    return result.accessToken;
  }

  it('401 with the c1 claims request, a new sign-in with those claims passes the second factor, and the route answers', async () => {
    entra.policies.requireAuthenticationContext({ context: 'c1' });
    const member = entra.defaults.users.member;

    const first = await signIn(undefined, false);
    expect((await get(url, '/transfers', first)).json).toEqual({ oid: member.id });
    const refused = await get(url, '/transfers/approve', first);
    expect(refused.status).toBe(401);
    const challenge = parseWwwAuthenticate(refused.headers.get('www-authenticate'));
    expect(challenge?.error).toBe('insufficient_claims');
    expect(JSON.parse(challenge!.claims!)).toEqual({ access_token: { acrs: { essential: true, value: 'c1' } } });

    // The policy on c1 asks for the second factor: a browser that cannot pass it gets no token.
    await expect(signIn(challenge!.claims, false)).rejects.toThrow(/second factor is required/);

    const stepped = await signIn(challenge!.claims);
    const approved = await get(url, '/transfers/approve', stepped);
    expect(approved.status).toBe(200);
    expect(approved.json).toEqual({ approvedBy: member.id, acrs: ['c1'] });
  });

  it('with no policy on c1, the claims request is satisfied without a prompt and the route answers', async () => {
    const refused = await get(url, '/transfers/approve', await signIn(undefined, false));
    const claims = parseWwwAuthenticate(refused.headers.get('www-authenticate'))!.claims!;

    const approved = await get(url, '/transfers/approve', await signIn(claims, false));
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({ acrs: ['c1'] });
  });
});
