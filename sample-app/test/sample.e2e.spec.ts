import { runDaemon } from '../src/daemon.js';
import { startSample, type RunningSample } from '../src/main.js';
import { runWalkthrough } from '../src/walkthrough.js';

const OBO_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The web app's session cookie, carried by hand across requests (the emulator's pages are reached with its own fetch). */
class Session {
  cookie = '';

  async get(url: string): Promise<Response> {
    const response = await fetch(url, { redirect: 'manual', headers: this.cookie ? { cookie: this.cookie } : {} });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    return response;
  }
}

describe('the three-tier sample against the emulator', () => {
  let sample: RunningSample;

  beforeAll(async () => {
    sample = await startSample({ webAppPort: 0, tasksApiPort: 0, profileApiPort: 0, emulatorPort: 0 });
  });
  afterAll(async () => {
    await sample?.close();
  });

  it('runs the walkthrough: sign-in, On-Behalf-Of with the identity chain and Graph /me, a cache hit, then the CAE retry', async () => {
    const entra = sample.entra!;
    const alice = entra.defaults.users.member;
    const lines: string[] = [];
    const requestsBefore = entra.tokenRequests({ grantType: OBO_GRANT }).length;
    await runWalkthrough(entra, sample.webApp.url, (line) => lines.push(line));
    expect(lines.at(-1)).toBe('walkthrough succeeded');
    const text = lines.join('\n');
    expect(text).toContain(`oid ${alice.id}`);
    expect(text).toContain(`Microsoft Graph /me (the emulator's Graph, named API 'graph'): ${alice.displayName} (${alice.id})`);
    expect(text).toContain('token exchanges still 2');
    expect(text).toContain('4. CAE: the profile API challenged');
    // Profile API and Graph once each, then the CAE retry's one new exchange for the profile API: never a loop.
    const exchanges = entra.tokenRequests({ grantType: OBO_GRANT }).slice(requestsBefore);
    const profileScope = sample.settings.profileApi.readScope;
    expect(exchanges.map((request) => request.scope?.split(' ').includes(profileScope))).toEqual([expect.any(Boolean), expect.any(Boolean), true]);
    expect(exchanges.filter((request) => request.scope?.split(' ').includes(profileScope))).toHaveLength(2);
  });

  it("shows the user's Graph /me beside the profile on the home page, and the CAE demo names two tokens", async () => {
    const entra = sample.entra!;
    const alice = entra.defaults.users.member;
    const session = new Session();
    await signIn(session, alice.username);
    const page = await (await session.get(`${sample.webApp.url}/`)).text();
    expect(page).toContain('You in Microsoft Graph');
    expect(page).toContain(`<dd>${alice.displayName}</dd><dt>User principal name</dt><dd>${alice.username}</dd>`);

    const demo = (await (await session.get(`${sample.webApp.url}/cae-demo.json`)).json()) as Record<string, unknown>;
    expect(demo).toMatchObject({ retried: true, revokedToken: expect.any(String), answeredWithToken: expect.any(String) });
    expect(demo.answeredWithToken).not.toBe(demo.revokedToken);
  });

  it('runs the daemon through the app-only endpoints with client credentials', async () => {
    const stats = (await runDaemon(sample.settings, sample.tasksApiUrl, sample.entra!.networkClient)) as { directory: { appOnly: boolean; calledBy: string } };
    expect(stats.directory).toMatchObject({ appOnly: true, calledBy: sample.settings.tasksApi.clientId });
  });

  /** Signs `username` in through the web app (the emulator's pages walked by `entra.signIn`); returns the authorize URL. */
  async function signIn(session: Session, username: string): Promise<URL> {
    const toEntra = await session.get(`${sample.webApp.url}/auth/sign-in`);
    const authorizeUrl = new URL(toEntra.headers.get('location')!);
    const callback = await sample.entra!.signIn(authorizeUrl.toString(), { username });
    expect((await session.get(callback.toString())).status).toBe(302);
    return authorizeUrl;
  }

  it('steps Bob up to MFA: explains it, signs him in again without the picker, and shows the second factor was used', async () => {
    const entra = sample.entra!;
    const bob = entra.defaults.users.mfaUser;
    const session = new Session();

    await signIn(session, bob.username);
    const challenged = await session.get(`${sample.webApp.url}/`);
    expect(challenged.status).toBe(401);
    const explanation = await challenged.text();
    expect(explanation).toContain('One more step: a second factor');
    expect(explanation).toContain('requires multi-factor authentication');
    expect(explanation).toContain('href="/auth/sign-in"');

    // The next sign-in carries the claims challenge and names Bob (no account picker); the emulator asks for the
    // second factor, which entra.signIn enters.
    const stepUp = await signIn(session, bob.username);
    expect(stepUp.searchParams.get('login_hint')).toBe(bob.username);
    expect(stepUp.searchParams.get('claims')).toContain('access_token');
    const me = await session.get(`${sample.webApp.url}/me.json`);
    expect(me.status).toBe(200);
    const body = (await me.json()) as { secondFactorAt: string | null; me: { profile: { identityChain: { oid: string } } } };
    expect(body.me.profile.identityChain.oid).toBe(bob.id);
    expect(body.secondFactorAt).not.toBeNull();

    const page = await (await session.get(`${sample.webApp.url}/`)).text();
    expect(page).toContain('Bob Baker');
    expect(page).toContain('Sign-in: password and a second factor');
    const signOut = await session.get(`${sample.webApp.url}/auth/sign-out`);
    expect(signOut.headers.get('location')).toContain('/oauth2/v2.0/logout');
    expect((await session.get(`${sample.webApp.url}/me.json`)).status).toBe(401);
  });

  describe('when the user token expires', () => {
    afterEach(() => sample.entra!.clock.reset());

    // Entra's access tokens live a random 60 to 90 minutes (https://learn.microsoft.com/entra/identity-platform/access-tokens),
    // so two hours later the user's token has expired. Its refresh tokens live 90 days for a web app, 24 hours for a
    // SPA (https://learn.microsoft.com/entra/identity-platform/refresh-tokens), and so do the emulator's
    // (`refreshTokenSec`), so 91 days later only a new sign-in helps. The APIs judge tokens by the emulator's clock,
    // and so does the emulator's token endpoint: moving it expires them as time would.
    it('renews the token silently with the refresh token, without a new sign-in', async () => {
      const entra = sample.entra!;
      const alice = entra.defaults.users.member;
      const session = new Session();
      await signIn(session, alice.username);
      const first = await (await session.get(`${sample.webApp.url}/`)).text();
      expect(first).toContain(`Signed in as <strong>${alice.displayName}</strong>`);
      expect(first).toContain('Sign-in: password only');
      const refreshesBefore = entra.tokenRequests({ grantType: 'refresh_token' }).length;

      entra.clock.advanceSec(2 * 3600);
      const later = await session.get(`${sample.webApp.url}/`);
      expect(later.status).toBe(200);
      expect(await later.text()).toContain(`Signed in as <strong>${alice.displayName}</strong>`);
      expect(entra.tokenRequests({ grantType: 'refresh_token' }).length).toBe(refreshesBefore + 1);
    });

    it('signs the user in again when the refresh token has expired too', async () => {
      const entra = sample.entra!;
      const session = new Session();
      await signIn(session, entra.defaults.users.member.username);
      expect((await session.get(`${sample.webApp.url}/`)).status).toBe(200);

      entra.clock.advanceSec(91 * 86_400);
      const home = await session.get(`${sample.webApp.url}/`);
      expect(home.status).toBe(302);
      expect(home.headers.get('location')).toBe('/auth/sign-in');
      expect(await (await session.get(`${sample.webApp.url}/me.json`)).json()).toEqual({ signedIn: false, signIn: '/auth/sign-in' });

      await signIn(session, entra.defaults.users.member.username);
      expect((await session.get(`${sample.webApp.url}/`)).status).toBe(200);
    });
  });
});
