import { EmulatorDirectory } from './directory.js';
import { EmulatorPolicies } from './policies.js';
import { applySeed, exportSeed, seedShapeProblems, type EmulatorSeed } from './seed-file.js';
import { CONTOSO_ID, FABRIKAM_ID } from './unit-fixtures.spec.fixtures.js';

const API_ID = '33333333-3333-4333-8333-333333333333';
const WEB_ID = '44444444-4444-4444-8444-444444444444';
const ALICE_ID = '55555555-5555-4555-8555-555555555555';
const GUEST_ID = '66666666-6666-4666-8666-666666666666';
const POLICY_ID = '77777777-7777-4777-8777-777777777777';
const DENIAL_ID = '88888888-8888-4888-8888-888888888888';
const CONTEXT_POLICY_ID = '99999999-9999-4999-8999-999999999999';

const SEED: EmulatorSeed = {
  tenants: [
    { id: CONTOSO_ID, displayName: 'Contoso' },
    { id: FABRIKAM_ID, displayName: 'Fabrikam', domain: 'fabrikam.example' },
  ],
  users: [{ id: ALICE_ID, tenantId: CONTOSO_ID, username: 'alice', displayName: 'Alice' }],
  guests: [{ id: GUEST_ID, member: ALICE_ID, tenantId: FABRIKAM_ID }],
  apps: [
    { clientId: API_ID, tenantId: CONTOSO_ID, displayName: 'API', signInAudience: 'AzureADMultipleOrgs', scopes: ['read'], appRoles: ['Data.Read'], optionalClaims: { accessToken: ['idtyp'] } },
    { clientId: WEB_ID, tenantId: CONTOSO_ID, displayName: 'Web', redirectUris: ['http://localhost/cb'], apiPermissions: { [API_ID]: ['read'] }, secrets: ['fixed-secret-value'] },
  ],
  policies: [{ id: POLICY_ID, grant: 'mfa', resource: API_ID, users: [ALICE_ID] }],
  consentDenials: [{ id: DENIAL_ID, client: WEB_ID, resource: API_ID }],
  authenticationContexts: [{ id: CONTEXT_POLICY_ID, context: 'c1', users: [ALICE_ID] }],
};

function seeded(seed: unknown): { directory: EmulatorDirectory; policies: EmulatorPolicies } {
  const directory = new EmulatorDirectory();
  const policies = new EmulatorPolicies(directory);
  applySeed(seed, directory, policies);
  return { directory, policies };
}

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  throw new Error('expected a TypeError');
}

describe('seed files', () => {
  it('builds every entity with its fixed id, and the secrets as given', () => {
    const { directory, policies } = seeded(SEED);
    expect(directory.tenant('fabrikam.example').id).toBe(FABRIKAM_ID);
    expect(directory.user('alice@contoso.onmicrosoft.com').id).toBe(ALICE_ID);
    expect(directory.user(GUEST_ID)).toMatchObject({ tenantId: FABRIKAM_ID, homeObjectId: ALICE_ID });
    expect(directory.app(WEB_ID)).toMatchObject({ secrets: ['fixed-secret-value'], apiPermissions: { [API_ID]: ['read'] } });
    expect(directory.app(API_ID).optionalClaims.accessToken).toEqual(['idtyp']);
    expect(policies.all.conditionalAccess).toEqual([{ id: POLICY_ID, grant: 'mfa', resource: API_ID, users: [ALICE_ID] }]);
    expect(policies.all.consentDenials).toEqual([{ id: DENIAL_ID, client: WEB_ID, resource: API_ID }]);
    expect(policies.all.authenticationContexts).toEqual([{ id: CONTEXT_POLICY_ID, context: 'c1', users: [ALICE_ID] }]);
  });

  it('refuses an authentication context id outside c1-c99, and exports no section when there are no context policies', () => {
    const message = messageOf(() => seeded({ ...SEED, authenticationContexts: [{ id: CONTEXT_POLICY_ID, context: 'c100' }] }));
    expect(message).toContain('seed.authenticationContexts[0].context: must be an authentication context id, c1 to c99, got "c100"');
    const { authenticationContexts: _contexts, ...withoutContexts } = SEED;
    const plain = seeded(withoutContexts);
    expect(exportSeed(plain.directory, plain.policies)).not.toHaveProperty('authenticationContexts');
  });

  it('writes back what it read: export, then apply, gives the same seed', () => {
    const first = seeded(SEED);
    const exported = exportSeed(first.directory, first.policies);
    const second = seeded(JSON.parse(JSON.stringify(exported)));
    expect(exportSeed(second.directory, second.policies)).toEqual(exported);
    expect(exported.apps!.map((app) => app.clientId)).toEqual([API_ID, WEB_ID]);
  });

  it('names every problem of its shape at once, by path', () => {
    const bad = {
      tenants: [{ id: 'contoso', displayName: 'Contoso' }, { displayName: 7 }],
      users: [{ id: ALICE_ID, tenantId: CONTOSO_ID, username: 'alice', password: 'x' }],
      apps: [{ clientId: API_ID, tenantId: CONTOSO_ID, displayName: 'API', accessTokenVersion: 3, secrets: 'one' }, { clientId: API_ID, tenantId: CONTOSO_ID, displayName: 'Copy' }],
      policies: [{ id: POLICY_ID, grant: 'allow', resource: API_ID }],
      roles: [],
    };
    expect(seedShapeProblems(bad)).toEqual([
      'seed.roles: unknown section (known: tenants, users, guests, apps, policies, consentDenials, authenticationContexts)',
      `seed.tenants[0].id: must be a GUID, got "contoso"`,
      'seed.tenants[1].id: is required',
      'seed.tenants[1].displayName: must be a non-empty string',
      'seed.users[0].password: unknown field (known: id, tenantId, username, displayName)',
      'seed.apps[0].accessTokenVersion: must be 1 or 2',
      'seed.apps[0].secrets: must be an array of strings',
      `seed.apps[1]: the id ${API_ID} is already used by seed.apps[0]`,
      "seed.policies[0].grant: must be 'mfa', 'mfa-registration' or 'block'",
    ]);
    expect(messageOf(() => seeded(bad)).split('\n')[0]).toBe('invalid seed:');
    expect(seedShapeProblems([])).toEqual(['seed must be an object with tenants, users, guests, apps, policies, consentDenials and authenticationContexts']);
  });

  it('names every problem the directory finds at once: references to what the seed does not hold', () => {
    const message = messageOf(() =>
      seeded({
        tenants: [{ id: CONTOSO_ID, displayName: 'Contoso' }],
        users: [{ id: ALICE_ID, tenantId: FABRIKAM_ID, username: 'alice' }],
        apps: [{ clientId: API_ID, tenantId: CONTOSO_ID, displayName: 'API', redirectUris: ['not a url'] }],
        policies: [{ id: POLICY_ID, grant: 'block', resource: WEB_ID }],
      }),
    );
    const lines = message.split('\n');
    expect(lines[0]).toBe('invalid seed:');
    expect(lines.slice(1).map((line) => line.split(':')[0])).toEqual(['- seed.users[0]', '- seed.apps[0]', '- seed.policies[0]']);
    expect(message).toContain(FABRIKAM_ID);
    expect(message).toContain("'not a url'");
  });
});
