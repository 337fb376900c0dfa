// EntraEmulator.reset(): one emulator per suite, a clean one per test. What reset() must bring back is what a fresh
// start would give, except what clients were configured with (port, TLS certificate, CA), which must stay.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { CLIENT_CREDENTIALS_GRANT, startEntraEmulator, type EmulatorApp, type EntraEmulator } from '../../src/testing/index.js';
import { useEmulator } from '../support/emulator.js';
import { authorizeUrl, entraErrorOf, pkcePair, postForm, requestTokens, tokenEndpoint } from './entra-http-kit.js';
import { WEB_APP_REDIRECT_URI, webAppCodeRedemption } from './emulator-web-app-kit.js';

const REDIRECT_URI = WEB_APP_REDIRECT_URI;

/** What a test can change of the directory and policies, as plain data (certificates by thumbprint). */
function directoryState(entra: EntraEmulator): unknown {
  const app = (entry: EmulatorApp) => ({ ...entry, certificates: entry.certificates.map((certificate) => certificate.x5t) });
  // A deep copy: the directory hands out its live objects, which the test is about to change.
  return structuredClone({ tenants: entra.directory.tenants, users: entra.directory.users, apps: entra.directory.apps.map(app), policies: entra.policies.all });
}

describe('EntraEmulator.reset()', () => {
  const entra = useEmulator({ randomSeed: 42 });

  function daemonTokenRequest(secret: string): Promise<Response> {
    const d = entra.defaults;
    return postForm(entra, tokenEndpoint(entra, d.tenants.primary.id), {
      grant_type: CLIENT_CREDENTIALS_GRANT,
      client_id: d.apps.daemon.app.clientId,
      client_secret: secret,
      scope: d.apps.downstreamApi.defaultScope,
    });
  }

  it('brings back the seeded directory, policies, signing keys, real time, no faults and an empty log, on the same port and CA', async () => {
    const d = entra.defaults;
    const seeded = { state: directoryState(entra), keys: entra.signingKeyIds, host: entra.authorityHost, ca: entra.caCertificatePem };
    const daemonSecret = d.apps.daemon.clientSecret;

    const tenant = entra.directory.addTenant({ displayName: 'Northwind' });
    entra.directory.addUser({ tenantId: tenant.id, username: 'erin' });
    entra.directory.removeUser(d.users.member.id);
    entra.directory.removeSecret(d.apps.daemon.app.clientId, daemonSecret);
    entra.directory.addSecret(d.apps.daemon.app.clientId);
    await entra.directory.generateCertificate(d.apps.daemon.app.clientId);
    entra.directory.grantApiPermission(d.apps.webApp.app.clientId, d.apps.downstreamApi.app.clientId, ['Profile.Read']);
    entra.policies.remove(d.policies.mfaForDownstream.id);
    entra.policies.blockAccess({ resource: d.apps.middleTierApi.app.clientId });
    entra.policies.denyConsent({ client: d.apps.middleTierApi.app.clientId, resource: d.apps.downstreamApi.app.clientId });
    await entra.rotateSigningKeys({ retirePrevious: true });
    entra.clock.advanceSec(7 * 86_400);
    entra.clock.freeze();
    expect((await entraErrorOf(await daemonTokenRequest(daemonSecret))).body.error).toBe('invalid_client');
    entra.faults.inject({ type: 'throttle', retryAfterSec: 30 }, { times: 3 });
    expect(entra.requests.length).toBeGreaterThan(0);
    expect(directoryState(entra)).not.toEqual(seeded.state);

    entra.reset();

    expect(directoryState(entra)).toEqual(seeded.state);
    expect(entra.directory.user(d.users.member.id)).toBe(d.users.member);
    expect(entra.directory.findTenant(tenant.id)).toBeUndefined();
    expect(entra.signingKeyIds).toEqual(seeded.keys);
    expect(entra.authorityHost).toBe(seeded.host);
    expect(entra.caCertificatePem).toBe(seeded.ca);
    expect(entra.faults.pending).toBe(0);
    expect(entra.requests).toEqual([]);
    // A week was added and the clock frozen; back on real time, it reads within a minute of the machine's.
    expect(Math.abs(entra.clock.nowMs() - Date.now())).toBeLessThan(60_000);

    // The seeded secret works again, over the same pinned fetch, and the token is signed by the seeded active key.
    const response = await daemonTokenRequest(daemonSecret);
    expect(response.status).toBe(200);
    const { access_token: token } = (await response.json()) as { access_token: string };
    expect(decodeProtectedHeader(token).kid).toBe(seeded.keys.at(-1));
    // Issued on real time, not a week ahead (Entra back-dates iat by minutes, hence the wide bound).
    expect(Math.abs(decodeJwt(token).iat! - Date.now() / 1000)).toBeLessThan(3600);
    expect(entra.tokenRequests({ grantType: CLIENT_CREDENTIALS_GRANT }).map((entry) => entry.status)).toEqual([200]);
  });

  it('forgets the codes and refresh tokens handed out before', async () => {
    const d = entra.defaults;
    const { verifier, challenge } = pkcePair();
    const url = authorizeUrl(entra, d.tenants.primary.id, {
      client_id: d.apps.webApp.app.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: `openid offline_access ${d.apps.middleTierApi.scope}`,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      login_hint: d.users.member.username,
    });
    const codeOf = async () => (await entra.signIn(url, { username: d.users.member.username })).searchParams.get('code')!;
    const redeem = (code: string) => webAppCodeRedemption(entra, code, verifier);
    const unredeemed = await codeOf();
    const { refresh_token: refreshToken } = await requestTokens(entra, d.tenants.primary.id, redeem(await codeOf()));

    entra.reset();

    const refresh = { grant_type: 'refresh_token', client_id: d.apps.webApp.app.clientId, client_secret: d.apps.webApp.clientSecret, refresh_token: refreshToken!, scope: d.apps.middleTierApi.scope };
    const refused = await entraErrorOf(await postForm(entra, tokenEndpoint(entra, d.tenants.primary.id), refresh));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    const unknownCode = await entraErrorOf(await postForm(entra, tokenEndpoint(entra, d.tenants.primary.id), redeem(unredeemed)));
    expect(unknownCode.body.error).toBe('invalid_grant');
    // A sign-in after the reset works as on a fresh emulator.
    await expect(requestTokens(entra, d.tenants.primary.id, redeem(await codeOf()))).resolves.toHaveProperty('refresh_token');
  });

  it('draws the seeded random lifetimes from the start again', async () => {
    const d = entra.defaults;
    const lifetimes = async () => {
      const issued: number[] = [];
      for (let index = 0; index < 3; index += 1) {
        const claims = decodeJwt(await entra.issueAccessToken({ user: d.users.member, client: d.apps.webApp.app, resource: d.apps.middleTierApi.app }));
        issued.push(claims.exp! - claims.iat!);
      }
      return issued;
    };
    entra.reset();
    const first = await lifetimes();
    entra.reset();
    expect(await lifetimes()).toEqual(first);
  });

  it('returns a custom seed to what the seed function built, without running it again, and an empty one to empty', async () => {
    let runs = 0;
    const custom = await startEntraEmulator({
      seed: (emulator) => {
        runs += 1;
        emulator.directory.addTenant({ displayName: 'Tailspin' });
      },
    });
    const empty = await startEntraEmulator({ seed: 'empty' });
    try {
      const [tailspin] = custom.directory.tenants;
      custom.directory.addTenant({ displayName: 'Litware' });
      empty.directory.addTenant({ displayName: 'Litware' });
      custom.reset();
      empty.reset();
      expect(custom.directory.tenants).toEqual([tailspin]);
      expect(runs).toBe(1);
      expect(empty.directory.tenants).toEqual([]);
    } finally {
      await Promise.all([custom.close(), empty.close()]);
    }
    expect(() => custom.reset()).toThrow('reset(): the emulator is closed');
  });
});
