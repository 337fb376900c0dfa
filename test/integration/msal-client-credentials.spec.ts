import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ClientAuthError, ServerError } from '@azure/msal-node';
import { useEmulator } from '../support/emulator.js';
import { aadstsOf, CLIENT_ASSERTION_TYPE, claimsOf, confidentialClient, headerOf, hexToBase64Url, middleTierOnCertificate, recordingNetworkClient, rejectionOf, tokenRequestsSince } from './msal-test-kit.js';

describe('client credentials: real msal-node against the emulator', () => {
  const entra = useEmulator();

  // idtyp is an optional claim (absent unless the resource configures it); app tokens are known by no scp and oid = sub.
  it('a daemon with its secret gets an app-only token: roles, no scp, no idtyp, oid = sub = its service principal', async () => {
    const d = entra.defaults;
    const msal = confidentialClient(entra, { clientId: d.apps.daemon.app.clientId, credential: { clientSecret: d.apps.daemon.clientSecret } });
    const network = recordingNetworkClient(entra.networkClient);
    const recorded = confidentialClient(entra, { clientId: d.apps.daemon.app.clientId, credential: { clientSecret: d.apps.daemon.clientSecret }, networkClient: network });
    const before = entra.tokenRequests().length;

    const result = await msal.acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope] });

    expect(result).not.toBeNull();
    const claims = claimsOf(result!.accessToken);
    const servicePrincipalId = entra.directory.servicePrincipalId(d.apps.daemon.app, d.tenants.primary.id);
    expect(claims).toMatchObject({
      aud: d.apps.downstreamApi.app.clientId,
      azp: d.apps.daemon.app.clientId,
      azpacr: '1',
      roles: ['Directory.Read.All'],
      oid: servicePrincipalId,
      sub: servicePrincipalId,
      tid: d.tenants.primary.id,
      iss: entra.issuer(d.tenants.primary.id),
      ver: '2.0',
    });
    expect(claims.scp).toBeUndefined();
    expect(claims.idtyp).toBeUndefined();
    // No user, no ID token, no account.
    expect(result!.account).toBeNull();
    expect(result!.idToken).toBe('');
    expect(tokenRequestsSince(entra, before)).toEqual([
      expect.objectContaining({ grantType: 'client_credentials', clientId: d.apps.daemon.app.clientId, tenant: d.tenants.primary.id, scope: d.apps.downstreamApi.defaultScope, status: 200 }),
    ]);

    // A repeat is served from msal's cache.
    const again = await msal.acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope] });
    expect(again).toMatchObject({ fromCache: true, accessToken: result!.accessToken });
    expect(tokenRequestsSince(entra, before)).toHaveLength(1);

    // msal asks for exactly the .default scope: no OIDC scopes in the client credentials flow.
    await recorded.acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope] });
    expect(network.posts.at(-1)!.get('scope')).toBe(d.apps.downstreamApi.defaultScope);
    expect(network.posts.at(-1)!.get('grant_type')).toBe('client_credentials');
  });

  it('the middle tier with its certificate by SHA-1 thumbprint: RS256 + x5t, azpacr 2', async () => {
    const d = entra.defaults;
    const { certificate } = d.apps.middleTierApi;
    const { msal, network } = middleTierOnCertificate(entra, 'sha1');

    const result = await msal.acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope] });

    const sent = network.posts.at(-1)!;
    expect(sent.get('client_assertion_type')).toBe(CLIENT_ASSERTION_TYPE);
    expect(headerOf(sent.get('client_assertion')!)).toMatchObject({ alg: 'RS256', x5t: hexToBase64Url(certificate.thumbprintSha1Hex) });
    expect(claimsOf(result!.accessToken)).toMatchObject({ aud: d.apps.downstreamApi.app.clientId, azp: d.apps.middleTierApi.app.clientId, azpacr: '2', roles: ['Directory.Read.All'] });
  });

  it('the middle tier with its certificate by SHA-256 thumbprint and x5c: PS256 + x5t#S256', async () => {
    const d = entra.defaults;
    const { certificate } = d.apps.middleTierApi;
    const { msal, network } = middleTierOnCertificate(entra, 'sha256+x5c');

    const result = await msal.acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope] });

    const header = headerOf(network.posts.at(-1)!.get('client_assertion')!);
    expect(header).toMatchObject({ alg: 'PS256', 'x5t#S256': hexToBase64Url(certificate.thumbprintSha256Hex) });
    expect(header.x5c).toHaveLength(1);
    expect(claimsOf(result!.accessToken)).toMatchObject({ azpacr: '2', roles: ['Directory.Read.All'] });
  });

  it('a certificate the app never registered: invalid_client 700027', async () => {
    const d = entra.defaults;
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const msal = confidentialClient(entra, {
      credential: { clientCertificate: { thumbprintSha256: randomBytes(32).toString('hex'), privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() } },
    });

    const error = await rejectionOf(msal.acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope] }));

    expect(error).toBeInstanceOf(ServerError);
    expect(error.errorCode).toBe('invalid_client');
    expect(aadstsOf(error)).toBe('700027');
  });

  it('a daemon calling the middle tier gets Tasks.Read.All', async () => {
    const d = entra.defaults;
    const msal = confidentialClient(entra, { clientId: d.apps.daemon.app.clientId, credential: { clientSecret: d.apps.daemon.clientSecret } });

    const result = await msal.acquireTokenByClientCredential({ scopes: [`${d.apps.middleTierApi.app.identifierUris[0]}/.default`] });

    expect(claimsOf(result!.accessToken)).toMatchObject({ aud: d.apps.middleTierApi.app.clientId, roles: ['Tasks.Read.All'], azp: d.apps.daemon.app.clientId });
  });

  it('a scope without /.default: invalid_scope (AADSTS1002012)', async () => {
    const d = entra.defaults;
    const msal = confidentialClient(entra, { clientId: d.apps.daemon.app.clientId, credential: { clientSecret: d.apps.daemon.clientSecret } });

    const error = await rejectionOf(msal.acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.scopes.read] }));

    expect(error).toBeInstanceOf(ServerError);
    expect(error.errorCode).toBe('invalid_scope');
    expect(aadstsOf(error)).toBe('1002012');
  });

  it('a wrong client secret: invalid_client 7000215', async () => {
    const d = entra.defaults;
    const msal = confidentialClient(entra, { clientId: d.apps.daemon.app.clientId, credential: { clientSecret: 'wrong' } });

    const error = await rejectionOf(msal.acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope] }));

    expect(error.errorCode).toBe('invalid_client');
    expect(aadstsOf(error)).toBe('7000215');
  });

  it('msal refuses a common authority for client credentials before sending anything', async () => {
    const d = entra.defaults;
    const msal = confidentialClient(entra, { clientId: d.apps.daemon.app.clientId, credential: { clientSecret: d.apps.daemon.clientSecret }, tenant: 'common' });
    const before = entra.tokenRequests().length;

    const error = await rejectionOf(msal.acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope] }));

    expect(error).toBeInstanceOf(ClientAuthError);
    expect(error.errorCode).toBe('missing_tenant_id_error');
    expect(tokenRequestsSince(entra, before)).toHaveLength(0);
  });
});
