import { X509Certificate, createPublicKey } from 'node:crypto';
import { CONSUMERS_TENANT_ID, EmulatorDirectory, MICROSOFT_GRAPH_APP_ID, deterministicGuid, generateClientSecret, isGuid, type EmulatorTenant, type EmulatorUser } from './directory.js';
import { createSelfSignedCertificate } from './x509-certificates.js';
import { CONTOSO_ID, FABRIKAM_ID, spkiOf, twoTenantDirectory } from './unit-fixtures.spec.fixtures.js';

const CLIENT_ID = '33333333-3333-4333-8333-333333333333';

describe('EmulatorDirectory', () => {
  let directory: EmulatorDirectory;
  let contoso: EmulatorTenant;
  let fabrikam: EmulatorTenant;

  beforeEach(() => {
    ({ directory, contoso, fabrikam } = twoTenantDirectory('Fabrikam.example'));
  });

  describe('tenants', () => {
    it('derives the default domain from the display name, keeping only letters and digits', () => {
      expect(directory.addTenant({ displayName: 'Woodgrove Bank 2' }).domain).toBe('woodgrovebank2.onmicrosoft.com');
      expect(contoso).toEqual({ id: CONTOSO_ID, displayName: 'Contoso', domain: 'contoso.onmicrosoft.com' });
    });

    it('lower-cases a given domain and id', () => {
      expect(fabrikam.domain).toBe('fabrikam.example');
      const upper = directory.addTenant({ id: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE', displayName: 'Upper' });
      expect(upper.id).toBe('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    });

    it('generates a GUID id when none is given', () => {
      const tenant = directory.addTenant({ displayName: 'Generated' });
      expect(isGuid(tenant.id)).toBe(true);
      expect(tenant.id).toBe(tenant.id.toLowerCase());
    });

    it.each(['contoso', '1234', '11111111-1111-4111-8111-11111111111g', `{${CONTOSO_ID}}`])('refuses the non-GUID id %p', (id) => {
      expect(() => directory.addTenant({ id, displayName: 'Bad' })).toThrow(TypeError);
    });

    it('refuses a duplicate id, whatever its case', () => {
      expect(() => directory.addTenant({ id: CONTOSO_ID.toUpperCase(), displayName: 'Other', domain: 'other.example' })).toThrow(/already exists/);
    });

    it('refuses a duplicate domain, whatever its case, and adds nothing', () => {
      expect(() => directory.addTenant({ displayName: 'Copy', domain: 'CONTOSO.onmicrosoft.com' })).toThrow(/is taken/);
      expect(() => directory.addTenant({ displayName: 'Contoso' })).toThrow(/is taken/);
      expect(directory.tenants).toHaveLength(2);
    });

    it('finds a tenant by id or domain, case-insensitively', () => {
      expect(directory.findTenant(CONTOSO_ID.toUpperCase())).toBe(contoso);
      expect(directory.findTenant('Contoso.OnMicrosoft.com')).toBe(contoso);
      expect(directory.findTenant('FABRIKAM.EXAMPLE')).toBe(fabrikam);
      expect(directory.findTenant('nowhere.example')).toBeUndefined();
      expect(() => directory.tenant('nowhere.example')).toThrow(/No tenant 'nowhere.example'/);
    });
  });

  describe('users', () => {
    it('completes a bare user name with the tenant domain and lower-cases it', () => {
      const alice = directory.addUser({ tenantId: CONTOSO_ID, username: 'Alice' });
      expect(alice.username).toBe('alice@contoso.onmicrosoft.com');
      expect(alice.displayName).toBe('alice');
      expect(alice.tenantId).toBe(CONTOSO_ID);
      expect(isGuid(alice.id)).toBe(true);
    });

    it('keeps a full sign-in name and accepts the tenant by domain', () => {
      const bob = directory.addUser({ tenantId: 'fabrikam.example', username: 'Bob@Fabrikam.Example', displayName: 'Bob B.' });
      expect(bob).toMatchObject({ username: 'bob@fabrikam.example', displayName: 'Bob B.', tenantId: FABRIKAM_ID });
    });

    it('refuses a sign-in name that is taken, whatever its case', () => {
      directory.addUser({ tenantId: CONTOSO_ID, username: 'alice' });
      expect(() => directory.addUser({ tenantId: CONTOSO_ID, username: 'ALICE@contoso.onmicrosoft.com' })).toThrow(/is taken/);
    });

    it('refuses a duplicate object id', () => {
      const alice = directory.addUser({ tenantId: CONTOSO_ID, username: 'alice' });
      expect(() => directory.addUser({ tenantId: CONTOSO_ID, username: 'carol', id: alice.id.toUpperCase() })).toThrow(/already exists/);
      expect(directory.findUser('carol@contoso.onmicrosoft.com')).toBeUndefined();
    });

    it('refuses a user in an unknown tenant', () => {
      expect(() => directory.addUser({ tenantId: 'nowhere.example', username: 'x' })).toThrow(/No tenant/);
    });

    it('finds a user by object id or sign-in name, case-insensitively', () => {
      const alice = directory.addUser({ tenantId: CONTOSO_ID, username: 'alice' });
      expect(directory.findUser(alice.id.toUpperCase())).toBe(alice);
      expect(directory.findUser('ALICE@CONTOSO.ONMICROSOFT.COM')).toBe(alice);
      expect(() => directory.user('nobody')).toThrow(/No user 'nobody'/);
    });
  });

  describe('guests', () => {
    let alice: EmulatorUser;

    beforeEach(() => {
      alice = directory.addUser({ tenantId: CONTOSO_ID, username: 'alice', displayName: 'Alice' });
    });

    it('creates a new object in the resource tenant that points back at the home account', () => {
      const guest = directory.addGuest({ member: alice, tenantId: FABRIKAM_ID });
      expect(guest.id).not.toBe(alice.id);
      expect(isGuid(guest.id)).toBe(true);
      expect(guest).toMatchObject({
        tenantId: FABRIKAM_ID,
        username: 'alice_contoso.onmicrosoft.com#EXT#@fabrikam.example',
        displayName: 'Alice',
        homeTenantId: CONTOSO_ID,
        homeObjectId: alice.id,
      });
      expect(directory.usersOf(FABRIKAM_ID)).toEqual([guest]);
    });

    // Sign-in names are case-insensitive; the `#EXT#` marker is upper-case, so a lower-cased lookup must still match.
    it('finds the guest by its sign-in name, whatever its case', () => {
      const guest = directory.addGuest({ member: alice, tenantId: FABRIKAM_ID });
      expect(directory.findUser(guest.username)).toBe(guest);
      expect(directory.findUser(guest.username.toLowerCase())).toBe(guest);
    });

    it('accepts the member by sign-in name and the tenant by domain, and an explicit id', () => {
      const id = '44444444-4444-4444-8444-444444444444';
      const guest = directory.addGuest({ member: 'alice@contoso.onmicrosoft.com', tenantId: 'fabrikam.example', id: id.toUpperCase() });
      expect(guest.id).toBe(id);
      expect(guest.homeObjectId).toBe(alice.id);
    });

    it('refuses to invite a guest object (guest of a guest)', () => {
      const guest = directory.addGuest({ member: alice, tenantId: FABRIKAM_ID });
      const third = directory.addTenant({ displayName: 'Third' });
      expect(() => directory.addGuest({ member: guest, tenantId: third.id })).toThrow(/not another guest/);
    });

    it('refuses to invite a member into its own tenant', () => {
      expect(() => directory.addGuest({ member: alice, tenantId: CONTOSO_ID })).toThrow(/already a member/);
    });

    // A second guest object with the same sign-in name would make findUser and accountIn pick one arbitrarily.
    it('does not create a second guest object when the same member is invited twice', () => {
      const first = directory.addGuest({ member: alice, tenantId: FABRIKAM_ID });
      let second: EmulatorUser | undefined;
      try {
        second = directory.addGuest({ member: alice, tenantId: FABRIKAM_ID });
      } catch {
        // Refusing the second invitation is as good as returning the existing guest.
      }
      if (second) expect(second.id).toBe(first.id);
      expect(directory.usersOf(FABRIKAM_ID).filter((user) => user.homeObjectId === alice.id)).toHaveLength(1);
    });

    it('refuses an explicit id that another user already has, and leaves that user in place', () => {
      const bob = directory.addUser({ tenantId: FABRIKAM_ID, username: 'bob' });
      expect(() => directory.addGuest({ member: alice, tenantId: FABRIKAM_ID, id: bob.id })).toThrow();
      expect(directory.findUser(bob.id)).toBe(bob);
    });

    it('accountIn: the member itself at home, its guest object elsewhere, nothing where not invited', () => {
      const guest = directory.addGuest({ member: alice, tenantId: FABRIKAM_ID });
      const third = directory.addTenant({ displayName: 'Third' });
      expect(directory.accountIn(alice, CONTOSO_ID)).toBe(alice);
      expect(directory.accountIn(alice, FABRIKAM_ID)).toBe(guest);
      expect(directory.accountIn(alice, third.id)).toBeUndefined();
    });

    it('accountIn: from one guest object to the same member’s guest object in another tenant', () => {
      const guestInFabrikam = directory.addGuest({ member: alice, tenantId: FABRIKAM_ID });
      const third = directory.addTenant({ displayName: 'Third' });
      const guestInThird = directory.addGuest({ member: alice, tenantId: third.id });
      expect(directory.accountIn(guestInFabrikam, third.id)).toBe(guestInThird);
      expect(directory.accountIn(guestInFabrikam, FABRIKAM_ID)).toBe(guestInFabrikam);
    });
  });

  describe('apps', () => {
    it('gives a default App ID URI only to an app that exposes scopes or roles', () => {
      const client = directory.addApp({ displayName: 'Web', tenantId: CONTOSO_ID });
      const api = directory.addApp({ displayName: 'API', tenantId: CONTOSO_ID, scopes: ['access_as_user'] });
      const daemonApi = directory.addApp({ displayName: 'Daemon API', tenantId: CONTOSO_ID, appRoles: ['Data.Read'] });
      expect(client.identifierUris).toEqual([]);
      expect(api.identifierUris).toEqual([`api://${api.clientId}`]);
      expect(daemonApi.identifierUris).toEqual([`api://${daemonApi.clientId}`]);
    });

    it('keeps explicit identifier URIs instead of the default', () => {
      const api = directory.addApp({ displayName: 'API', tenantId: CONTOSO_ID, scopes: ['read'], identifierUris: ['https://contoso.example/api'] });
      expect(api.identifierUris).toEqual(['https://contoso.example/api']);
      expect(directory.findApp('HTTPS://CONTOSO.EXAMPLE/API')).toBe(api);
    });

    it('fills the defaults of a new registration', () => {
      const app = directory.addApp({ displayName: 'Web', tenantId: 'contoso.onmicrosoft.com', clientId: CLIENT_ID.toUpperCase() });
      expect(app).toEqual({
        clientId: CLIENT_ID,
        tenantId: CONTOSO_ID,
        displayName: 'Web',
        signInAudience: 'AzureADMyOrg',
        identifierUris: [],
        scopes: [],
        appRoles: [],
        redirectUris: [],
        spaRedirectUris: [],
        postLogoutRedirectUris: [],
        isFallbackPublicClient: false,
        optionalClaims: { accessToken: [], idToken: [] },
        accessTokenVersion: 2,
        preAuthorizedClients: [],
        apiPermissions: {},
        appPermissions: {},
        secrets: [],
        certificates: [],
      });
    });

    it('refuses optional claims it does not know, naming them', () => {
      expect(() => directory.addApp({ displayName: 'API', tenantId: CONTOSO_ID, optionalClaims: { accessToken: ['groups' as 'idtyp'] } })).toThrow(/optionalClaims.accessToken: 'groups'/);
      expect(() => directory.addApp({ displayName: 'Web', tenantId: CONTOSO_ID, optionalClaims: { idToken: ['idtyp' as 'acct'] } })).toThrow(/optionalClaims.idToken: 'idtyp'/);
    });

    it('holds Microsoft Graph from the start, as every tenant does, available in every organisation but not to personal accounts', () => {
      const graph = directory.findApp('https://graph.microsoft.com');
      expect(graph).toBe(directory.microsoftGraph);
      expect(graph).toMatchObject({ clientId: MICROSOFT_GRAPH_APP_ID, accessTokenVersion: 1, appRoles: ['User.Read.All'] });
      expect(graph!.scopes).toEqual(expect.arrayContaining(['User.Read', 'User.ReadBasic.All', 'Mail.Read', 'offline_access']));
      expect(directory.isAppAvailableIn(graph!, CONTOSO_ID)).toBe(true);
      expect(directory.isAppAvailableIn(graph!, CONSUMERS_TENANT_ID)).toBe(false);
      expect(() => directory.addApp({ displayName: 'Impostor', tenantId: CONTOSO_ID, clientId: MICROSOFT_GRAPH_APP_ID })).toThrow(/already exists/);
    });

    it('copies the caller’s arrays and permission maps, so later changes to them do not leak in', () => {
      const scopes = ['read'];
      const apiPermissions = { [CLIENT_ID]: ['read'] };
      const app = directory.addApp({ displayName: 'API', tenantId: CONTOSO_ID, scopes, apiPermissions });
      scopes.push('write');
      apiPermissions[CLIENT_ID]!.push('write');
      expect(app.scopes).toEqual(['read']);
      expect(app.apiPermissions).toEqual({ [CLIENT_ID]: ['read'] });
    });

    it('refuses an identifier URI another app uses, whatever its case, and registers nothing', () => {
      directory.addApp({ displayName: 'API', tenantId: CONTOSO_ID, identifierUris: ['api://shared'] });
      expect(() => directory.addApp({ displayName: 'Copy', tenantId: CONTOSO_ID, clientId: CLIENT_ID, identifierUris: ['API://Shared'] })).toThrow(
        /already used/,
      );
      expect(directory.findApp(CLIENT_ID)).toBeUndefined();
    });

    it('refuses a non-GUID or duplicate client id', () => {
      expect(() => directory.addApp({ displayName: 'Bad', tenantId: CONTOSO_ID, clientId: 'my-app' })).toThrow(TypeError);
      directory.addApp({ displayName: 'One', tenantId: CONTOSO_ID, clientId: CLIENT_ID });
      expect(() => directory.addApp({ displayName: 'Two', tenantId: CONTOSO_ID, clientId: CLIENT_ID })).toThrow(/already exists/);
    });

    it('isAppAvailableIn: a single-tenant app only at home, a multi-tenant app everywhere', () => {
      const single = directory.addApp({ displayName: 'Single', tenantId: CONTOSO_ID });
      const multi = directory.addApp({ displayName: 'Multi', tenantId: CONTOSO_ID, signInAudience: 'AzureADMultipleOrgs' });
      expect(directory.isAppAvailableIn(single, CONTOSO_ID)).toBe(true);
      expect(directory.isAppAvailableIn(single, FABRIKAM_ID)).toBe(false);
      expect(directory.isAppAvailableIn(multi, CONTOSO_ID)).toBe(true);
      expect(directory.isAppAvailableIn(multi, FABRIKAM_ID)).toBe(true);
    });

    it('adds a given or generated secret, and removes only the one named', () => {
      const app = directory.addApp({ displayName: 'Web', tenantId: CONTOSO_ID, secrets: ['first'] });
      expect(directory.addSecret(app.clientId, 'second')).toBe('second');
      const generated = directory.addSecret(app.clientId);
      expect(generated).toMatch(/^[A-Za-z0-9.]{3}8Q~[A-Za-z0-9.]{34}$/);
      expect(app.secrets).toEqual(['first', 'second', generated]);

      directory.removeSecret(app.clientId, 'second');
      directory.removeSecret(app.clientId, 'never-added');
      expect(app.secrets).toEqual(['first', generated]);
      expect(() => directory.addSecret('00000000-0000-4000-8000-000000000000')).toThrow(/No app/);
    });

    it('grants delegated and application permissions by resource client id or App ID URI, without duplicates', () => {
      const client = directory.addApp({ displayName: 'Web', tenantId: CONTOSO_ID });
      const api = directory.addApp({ displayName: 'API', tenantId: CONTOSO_ID, scopes: ['read', 'write'], appRoles: ['Data.Read', 'Data.Write'] });

      directory.grantApiPermission(client.clientId, `api://${api.clientId}`, ['read']);
      directory.grantApiPermission(client.clientId, api.clientId, ['read', 'write', 'write']);
      expect(client.apiPermissions).toEqual({ [api.clientId]: ['read', 'write'] });

      directory.grantAppPermission(client.clientId, api.clientId, ['Data.Read']);
      directory.grantAppPermission(client.clientId, `api://${api.clientId}`, ['Data.Read', 'Data.Write']);
      expect(client.appPermissions).toEqual({ [api.clientId]: ['Data.Read', 'Data.Write'] });

      expect(() => directory.grantApiPermission(client.clientId, 'api://unknown', ['read'])).toThrow(/No app/);
    });
  });

  describe('certificates', () => {
    it('registers a certificate the test brings, with its thumbprints and public key', async () => {
      const app = directory.addApp({ displayName: 'Web', tenantId: CONTOSO_ID });
      const brought = await createSelfSignedCertificate('brought');
      const registered = directory.addCertificate(app.clientId, brought.certificatePem);
      expect(registered.x5t).toBe(brought.x5t);
      expect(registered.x5tS256).toBe(brought.x5tS256);
      expect(spkiOf(registered.publicKey)).toBe(spkiOf(brought.publicKey));
      expect(app.certificates).toEqual([registered]);
    });

    it('generates a certificate whose private key matches what it registered', async () => {
      const app = directory.addApp({ displayName: 'Web <App>', tenantId: CONTOSO_ID });
      const credential = await directory.generateCertificate(app.clientId);
      const [registered] = app.certificates;
      expect(app.certificates).toHaveLength(1);

      const certificate = new X509Certificate(credential.certificatePem);
      expect(credential.thumbprintSha1Hex).toBe(certificate.fingerprint.replace(/:/g, ''));
      expect(credential.thumbprintSha256Hex).toBe(certificate.fingerprint256.replace(/:/g, ''));
      expect(registered!.x5t).toBe(Buffer.from(credential.thumbprintSha1Hex, 'hex').toString('base64url'));
      expect(registered!.x5tS256).toBe(Buffer.from(credential.thumbprintSha256Hex, 'hex').toString('base64url'));
      expect(spkiOf(createPublicKey(credential.privateKeyPem))).toBe(spkiOf(registered!.publicKey));
      // Characters that do not belong in a distinguished name are dropped from the subject.
      expect(certificate.subject).toBe('CN=Web App');
    });

    it('refuses a certificate for an unknown app', () => {
      expect(() => directory.addCertificate(CLIENT_ID, 'not a certificate')).toThrow();
    });
  });

  describe('service principals', () => {
    it('have a deterministic, GUID-shaped id per app and tenant', () => {
      const app = directory.addApp({ displayName: 'Daemon', tenantId: CONTOSO_ID, signInAudience: 'AzureADMultipleOrgs' });
      const atHome = directory.servicePrincipalId(app, CONTOSO_ID);
      expect(isGuid(atHome)).toBe(true);
      expect(directory.servicePrincipalId(app, CONTOSO_ID)).toBe(atHome);
      expect(new EmulatorDirectory().servicePrincipalId(app, CONTOSO_ID)).toBe(atHome);
      expect(directory.servicePrincipalId(app, FABRIKAM_ID)).not.toBe(atHome);
      expect(atHome).not.toBe(app.clientId);
    });
  });
});

describe('deterministicGuid', () => {
  it('is stable, depends on every part and looks like a version-4 GUID', () => {
    const guid = deterministicGuid('a', 'b');
    expect(deterministicGuid('a', 'b')).toBe(guid);
    expect(deterministicGuid('b', 'a')).not.toBe(guid);
    expect(deterministicGuid('a', 'c')).not.toBe(guid);
    expect(guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('generateClientSecret', () => {
  // The shape Entra's secrets have (and secret scanners look for): three characters, a digit, `Q~`, then 34 more.
  it('is 40 characters shaped like an Entra client secret, and random', () => {
    const secret = generateClientSecret();
    expect(secret).toHaveLength(40);
    expect(secret).toMatch(/^[A-Za-z0-9.]{3}\dQ~[A-Za-z0-9.]{34}$/);
    expect(generateClientSecret()).not.toBe(secret);
  });
});
