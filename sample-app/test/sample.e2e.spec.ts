import { runDaemon } from '../src/daemon.js';
import { startSample, type RunningSample } from '../src/main.js';
import { runWalkthrough } from '../src/walkthrough.js';

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

  it('runs the walkthrough: sign-in, On-Behalf-Of with the identity chain, then a cache hit', async () => {
    const lines: string[] = [];
    await runWalkthrough(sample.entra!, sample.webApp.url, (line) => lines.push(line));
    expect(lines.at(-1)).toBe('walkthrough succeeded');
    expect(lines.join('\n')).toContain(`oid ${sample.entra!.defaults.users.member.id}`);
    expect(lines.join('\n')).toContain('token exchanges still 1');
  });

  it('runs the daemon through the app-only endpoints with client credentials', async () => {
    const stats = (await runDaemon(sample.settings, sample.tasksApiUrl, sample.entra!.networkClient)) as { directory: { appOnly: boolean; calledBy: string } };
    expect(stats.directory).toMatchObject({ appOnly: true, calledBy: sample.settings.tasksApi.clientId });
  });

  it('steps Bob up to MFA when the profile API demands it, then shows his profile', async () => {
    const entra = sample.entra!;
    const bob = entra.defaults.users.mfaUser;
    const session = new Session();
    const signIn = async () => {
      const toEntra = await session.get(`${sample.webApp.url}/auth/sign-in`);
      const callback = await entra.signIn(toEntra.headers.get('location')!, { username: bob.username });
      expect((await session.get(callback.toString())).status).toBe(302);
    };

    await signIn();
    const challenged = await session.get(`${sample.webApp.url}/me.json`);
    expect(challenged.status).toBe(401);
    expect(await challenged.json()).toMatchObject({ stepUpRequired: true });

    // The next sign-in carries the claims challenge: the emulator asks for (and signIn enters) the second factor.
    await signIn();
    const me = await session.get(`${sample.webApp.url}/me.json`);
    expect(me.status).toBe(200);
    const body = (await me.json()) as { me: { profile: { identityChain: { oid: string } } } };
    expect(body.me.profile.identityChain.oid).toBe(bob.id);

    const page = await session.get(`${sample.webApp.url}/`);
    expect(await page.text()).toContain('Bob Baker');
    const signOut = await session.get(`${sample.webApp.url}/auth/sign-out`);
    expect(signOut.headers.get('location')).toContain('/oauth2/v2.0/logout');
    expect((await session.get(`${sample.webApp.url}/me.json`)).status).toBe(401);
  });
});
