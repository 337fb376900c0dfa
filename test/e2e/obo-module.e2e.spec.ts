import { OboConfigurationError } from '../../src/index.js';
import { userToken, useEmulator } from '../support/emulator.js';
import { useTestApp } from '../support/test-app.js';
import { startGuardedByDefaultApp } from './support/guarded-by-default-app.js';
import { ADAPTERS, middleTierOptions, startTestApp } from './support/test-app.js';

describe.each(ADAPTERS)('OboModule on %s', (adapter) => {
  const entra = useEmulator();
  const api = useTestApp(adapter, entra);

  it('validates a token and exchanges it, then serves the second call from cache', async () => {
    const token = await userToken(entra);
    const me = await fetch(`${api.url}/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    const first = await fetch(`${api.url}/downstream`, { headers: { authorization: `Bearer ${token}` } });
    expect(first.status).toBe(200);
    const body = await first.json();
    expect(body).toMatchObject({ fromCache: false, aud: entra.defaults.apps.downstreamApi.app.clientId, oid: entra.defaults.users.member.id });
    const before = entra.tokenRequests().length;
    const second = await fetch(`${api.url}/downstream`, { headers: { authorization: `Bearer ${token}` } });
    expect(await second.json()).toMatchObject({ fromCache: true });
    expect(entra.tokenRequests().length).toBe(before);
  });

  it('answers 401 without a token', async () => {
    const response = await fetch(`${api.url}/me`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('maps MFA to an insufficient_claims challenge', async () => {
    const token = await userToken(entra, entra.defaults.users.mfaUser);
    const response = await fetch(`${api.url}/downstream`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    const authorizationUri = `${entra.authorityHost}/${entra.defaults.tenants.primary.id}/oauth2/v2.0/authorize`;
    expect(response.headers.get('www-authenticate')).toMatch(new RegExp(`^Bearer realm="", authorization_uri="${authorizationUri}", error="insufficient_claims", claims="[A-Za-z0-9+/=]+"$`));
  });

  it('gets an app token for a daemon caller', async () => {
    const daemonToken = await entra.issueAccessToken({ client: entra.defaults.apps.daemon.app, resource: entra.defaults.apps.middleTierApi.app, roles: ['Tasks.Read.All'] });
    const response = await fetch(`${api.url}/app`, { headers: { authorization: `Bearer ${daemonToken}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ roles: ['Directory.Read.All'] });
  });
});

describe.each(ADAPTERS)('OboModule without a credential on %s', (adapter) => {
  const entra = useEmulator();

  function validateOnlyOptions() {
    const { credential: _credential, ...validateOnly } = middleTierOptions(entra);
    return validateOnly;
  }

  it('validates tokens on an API that acquires none', async () => {
    const { app, url } = await startGuardedByDefaultApp(adapter, validateOnlyOptions(), true);
    try {
      const token = await entra.issueAccessToken({ user: entra.defaults.users.member, client: entra.defaults.apps.webApp.app, resource: entra.defaults.apps.middleTierApi.app, scopes: ['access_as_user'] });
      expect((await fetch(`${url}/plain`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      expect(entra.tokenRequests()).toHaveLength(0);
    } finally {
      await app.close();
    }
  });

  it('refuses to start when a route acquires tokens, naming each such route, before any request', async () => {
    const refused = startTestApp(adapter, validateOnlyOptions());
    await expect(refused).rejects.toThrow(OboConfigurationError);
    await expect(refused).rejects.toThrow(/GET \/downstream \(TestApiController\.downstream\): @DownstreamToken acquires tokens, but OboModule has no credential/);
    await expect(refused).rejects.toThrow(/GET \/app \(TestApiController\.app\): @AppToken acquires tokens, but OboModule has no credential/);
    expect(entra.tokenRequests()).toHaveLength(0);
  });
});
