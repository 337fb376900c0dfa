import { EmulatorDirectory, type EmulatorApp, type EmulatorUser } from './directory.js';
import { EmulatorPolicies, claimsChallengeFor } from './policies.js';
import { CONTOSO_ID, FABRIKAM_ID, twoTenantDirectory } from './unit-fixtures.spec.fixtures.js';


describe('EmulatorPolicies', () => {
  let directory: EmulatorDirectory;
  let policies: EmulatorPolicies;
  let api: EmulatorApp;
  let otherApi: EmulatorApp;
  let client: EmulatorApp;
  let alice: EmulatorUser;
  let bob: EmulatorUser;
  let aliceAsGuest: EmulatorUser;

  beforeEach(() => {
    ({ directory } = twoTenantDirectory());
    api = directory.addApp({ displayName: 'API', tenantId: CONTOSO_ID, signInAudience: 'AzureADMultipleOrgs', scopes: ['read', 'write'] });
    otherApi = directory.addApp({ displayName: 'Other API', tenantId: CONTOSO_ID, scopes: ['read'] });
    client = directory.addApp({ displayName: 'Web', tenantId: CONTOSO_ID });
    alice = directory.addUser({ tenantId: CONTOSO_ID, username: 'alice' });
    bob = directory.addUser({ tenantId: CONTOSO_ID, username: 'bob' });
    aliceAsGuest = directory.addGuest({ member: alice, tenantId: FABRIKAM_ID });
    policies = new EmulatorPolicies(directory);
  });

  describe('Conditional Access', () => {
    it('resolves the resource and users to ids, and records the grant', () => {
      const mfa = policies.requireMfa({ resource: `api://${api.clientId}`, users: ['ALICE@contoso.onmicrosoft.com', bob.id] });
      const registration = policies.requireMfaRegistration({ resource: api.clientId, tenantId: CONTOSO_ID });
      const block = policies.blockAccess({ resource: api.clientId });

      expect(mfa).toEqual({ id: expect.any(String), grant: 'mfa', resource: api.clientId, users: [alice.id, bob.id] });
      expect(registration).toEqual({ id: expect.any(String), grant: 'mfa-registration', resource: api.clientId, tenantId: CONTOSO_ID });
      expect(block).toEqual({ id: expect.any(String), grant: 'block', resource: api.clientId });
      expect(new Set([mfa.id, registration.id, block.id]).size).toBe(3);
      expect(policies.all.conditionalAccess).toEqual([mfa, registration, block]);
    });

    it('refuses an unknown resource or user', () => {
      expect(() => policies.requireMfa({ resource: 'api://unknown' })).toThrow(/No app/);
      expect(() => policies.blockAccess({ resource: api.clientId, users: ['nobody@contoso.onmicrosoft.com'] })).toThrow(/No user/);
      expect(policies.all.conditionalAccess).toEqual([]);
    });

    it('applies only to requests for its resource', () => {
      const policy = policies.requireMfa({ resource: api.clientId });
      expect(policies.applicable(alice, api, CONTOSO_ID)).toEqual([policy]);
      expect(policies.applicable(alice, otherApi, CONTOSO_ID)).toEqual([]);
    });

    it('applies everywhere without a tenant, and only in its tenant with one', () => {
      const everywhere = policies.requireMfa({ resource: api.clientId });
      const contosoOnly = policies.blockAccess({ resource: api.clientId, tenantId: CONTOSO_ID });
      expect(policies.applicable(alice, api, CONTOSO_ID)).toEqual([everywhere, contosoOnly]);
      expect(policies.applicable(aliceAsGuest, api, FABRIKAM_ID)).toEqual([everywhere]);
    });

    it('applies to everyone without users, and only to the listed users with them', () => {
      const everyone = policies.requireMfaRegistration({ resource: api.clientId });
      const bobOnly = policies.requireMfa({ resource: api.clientId, users: [bob.username] });
      expect(policies.applicable(alice, api, CONTOSO_ID)).toEqual([everyone]);
      expect(policies.applicable(bob, api, CONTOSO_ID)).toEqual([everyone, bobOnly]);
    });

    // A policy written for the member account follows the person into the tenants they are a guest of.
    it('matches a guest object through the home account it stands for', () => {
      const forAlice = policies.requireMfa({ resource: api.clientId, users: [alice.id] });
      expect(policies.applicable(aliceAsGuest, api, FABRIKAM_ID)).toEqual([forAlice]);
      const bobAsGuest = directory.addGuest({ member: bob, tenantId: FABRIKAM_ID });
      expect(policies.applicable(bobAsGuest, api, FABRIKAM_ID)).toEqual([]);
    });

    it('matches a policy that names the guest object itself', () => {
      const forGuest = policies.blockAccess({ resource: api.clientId, users: [aliceAsGuest.id] });
      expect(policies.applicable(aliceAsGuest, api, FABRIKAM_ID)).toEqual([forGuest]);
      expect(policies.applicable(alice, api, CONTOSO_ID)).toEqual([]);
    });
  });

  describe('consent', () => {
    it('without scopes, denies every scope of the resource to that client only', () => {
      const denial = policies.denyConsent({ client: client.clientId, resource: `api://${api.clientId}` });
      expect(denial).toEqual({ id: expect.any(String), client: client.clientId, resource: api.clientId });
      expect('scopes' in denial).toBe(false);
      expect(policies.isConsentDenied(client, api, ['read'])).toBe(true);
      expect(policies.isConsentDenied(client, api, ['.default'])).toBe(true);
      expect(policies.isConsentDenied(client, otherApi, ['read'])).toBe(false);
      expect(policies.isConsentDenied(api, api, ['read'])).toBe(false);
    });

    it('with scopes, denies only requests that ask for one of them', () => {
      const scopes = ['write'];
      const denial = policies.denyConsent({ client: client.clientId, resource: api.clientId, scopes });
      scopes.push('read');
      expect(denial.scopes).toEqual(['write']);
      expect(policies.isConsentDenied(client, api, ['read'])).toBe(false);
      expect(policies.isConsentDenied(client, api, ['read', 'write'])).toBe(true);
    });

    it('refuses an unknown client or resource', () => {
      expect(() => policies.denyConsent({ client: 'api://unknown', resource: api.clientId })).toThrow(/No app/);
      expect(() => policies.denyConsent({ client: client.clientId, resource: 'api://unknown' })).toThrow(/No app/);
    });
  });

  // A Conditional Access policy can target an authentication context (c1-c99) instead of an app; a sign-in asking for
  // the context must then satisfy the policy's controls
  // (https://learn.microsoft.com/entra/identity-platform/developer-guide-conditional-access-authentication-context).
  describe('authentication contexts', () => {
    it('resolves users and tenant to ids and applies only to the requested contexts', () => {
      const c1 = policies.requireAuthenticationContext({ context: 'C1', users: ['alice@contoso.onmicrosoft.com'] });
      const c2 = policies.requireAuthenticationContext({ context: 'c2', tenantId: FABRIKAM_ID });

      expect(c1).toEqual({ id: expect.any(String), context: 'c1', users: [alice.id] });
      expect(policies.all.authenticationContexts).toEqual([c1, c2]);
      expect(policies.applicableToContexts(alice, CONTOSO_ID, ['c1'])).toEqual([c1]);
      expect(policies.applicableToContexts(alice, CONTOSO_ID, ['c3'])).toEqual([]);
      expect(policies.applicableToContexts(bob, CONTOSO_ID, ['c1'])).toEqual([]);
      expect(policies.applicableToContexts(aliceAsGuest, FABRIKAM_ID, ['c1', 'c2'])).toEqual([c1, c2]);
      expect(policies.applicableToContexts(alice, CONTOSO_ID, ['c2'])).toEqual([]);
    });

    it('refuses an id outside c1-c99 and an unknown user', () => {
      expect(() => policies.requireAuthenticationContext({ context: 'c100' })).toThrow(/c1 to c99/);
      expect(() => policies.requireAuthenticationContext({ context: 'high' })).toThrow(/c1 to c99/);
      expect(() => policies.requireAuthenticationContext({ context: 'c1', users: ['nobody'] })).toThrow();
      expect(policies.all.authenticationContexts).toEqual([]);
    });

    it('is removed by id, cleared, and brought back by a checkpoint', () => {
      const kept = policies.requireAuthenticationContext({ context: 'c1' });
      const restore = policies.checkpoint();
      const removed = policies.requireAuthenticationContext({ context: 'c2' });
      policies.remove(removed.id);
      expect(policies.all.authenticationContexts).toEqual([kept]);
      policies.clear();
      expect(policies.all.authenticationContexts).toEqual([]);
      restore();
      expect(policies.all.authenticationContexts).toEqual([kept]);
    });
  });

  describe('remove and clear', () => {
    it('remove() drops one policy or denial by id', () => {
      const mfa = policies.requireMfa({ resource: api.clientId });
      const block = policies.blockAccess({ resource: api.clientId });
      const denial = policies.denyConsent({ client: client.clientId, resource: api.clientId });
      const otherDenial = policies.denyConsent({ client: client.clientId, resource: otherApi.clientId });

      policies.remove(mfa.id);
      policies.remove(denial.id);
      policies.remove('not-an-id');
      expect(policies.all).toEqual({ conditionalAccess: [block], consentDenials: [otherDenial], authenticationContexts: [] });
      expect(policies.applicable(alice, api, CONTOSO_ID)).toEqual([block]);
      expect(policies.isConsentDenied(client, api, ['read'])).toBe(false);
    });

    it('clear() drops everything', () => {
      policies.requireMfa({ resource: api.clientId });
      policies.denyConsent({ client: client.clientId, resource: api.clientId });
      policies.clear();
      expect(policies.all).toEqual({ conditionalAccess: [], consentDenials: [], authenticationContexts: [] });
      expect(policies.applicable(alice, api, CONTOSO_ID)).toEqual([]);
    });

    it('all returns copies that do not change the policies', () => {
      policies.requireMfa({ resource: api.clientId });
      const snapshot = policies.all;
      (snapshot.conditionalAccess as unknown[]).length = 0;
      expect(policies.all.conditionalAccess).toHaveLength(1);
    });
  });
});

describe('claimsChallengeFor', () => {
  it('is the JSON Entra sends for Conditional Access: essential capolids with the policy ids', () => {
    const challenge = claimsChallengeFor(['policy-1', 'policy-2']);
    expect(JSON.parse(challenge)).toEqual({ access_token: { capolids: { essential: true, values: ['policy-1', 'policy-2'] } } });
    expect(challenge).not.toMatch(/\s/);
  });
});
