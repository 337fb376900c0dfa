import type { INestApplication } from '@nestjs/common';
import { decodeJwt } from 'jose';
import { TokenAcquisitionService } from '../../src/index.js';
import { startEntraEmulator, type EmulatorUser, type EntraEmulator, type IssueAccessTokenOptions } from '../../src/testing/index.js';
import {
  JWT_BEARER_GRANT,
  addUsers,
  challengeParams,
  daemonToken,
  get,
  leakedValues,
  userSecrets,
  userToken,
  withApp,
  type HttpAnswer,
} from './support/http-calls.js';
import { ADAPTERS, DOWNSTREAM_READ, middleTierOptions, startTestApp } from './support/test-app.js';

/** Over 200 distinct users at once: enough for a shared MSAL client or a mis-keyed cache to hand out the wrong token. */
const MANY_USERS = 210;

describe.each(ADAPTERS)('On-Behalf-Of over HTTP on %s', (adapter) => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;
  let manyUsers: EmulatorUser[];
  /** Every answer and every incoming token of this suite, for the final "nothing leaks" sweep. */
  const answers: HttpAnswer[] = [];
  const issuedTokens: string[] = [];
  /** Policies a test added; removed after it so the next test starts from the default directory. */
  const addedPolicies: string[] = [];

  beforeAll(async () => {
    entra = await startEntraEmulator();
    manyUsers = addUsers(entra, 'user', MANY_USERS);
    // A long timeout: the emulator shares this process, and a slow answer under load must not turn into a retry that
    // would make the request counts below wrong. The timeout itself is tested on its own app.
    ({ app, url } = await startTestApp(adapter, middleTierOptions(entra, { timeoutMs: 20_000 })));
  });
  afterEach(() => {
    entra.faults.clear();
    for (const id of addedPolicies.splice(0)) entra.policies.remove(id);
  });
  afterAll(async () => {
    await app?.close();
    await entra?.close();
  });

  async function tokenFor(user: EmulatorUser, extra: Partial<IssueAccessTokenOptions> = {}): Promise<string> {
    const token = await userToken(entra, user, extra);
    issuedTokens.push(token);
    return token;
  }

  async function call(path: string, token?: string, baseUrl = url): Promise<HttpAnswer> {
    const answer = await get(baseUrl, path, token);
    answers.push(answer);
    return answer;
  }

  function oboRequestCount(tenant?: string): number {
    return entra.tokenRequests({ grantType: JWT_BEARER_GRANT, ...(tenant ? { tenant } : {}) }).length;
  }

  /** A fresh user per test that changes policies, so a policy never leaks into another test's user. */
  function freshUser(name: string): EmulatorUser {
    return entra.directory.addUser({ tenantId: entra.defaults.tenants.primary.id, username: name, displayName: `${name} Tester` });
  }

  function expectNoLeak(answer: HttpAnswer, user: EmulatorUser, token: string): void {
    expect(leakedValues(answer, userSecrets(user, token))).toEqual([]);
  }

  describe('success and cache', () => {
    it('exchanges the token, then serves the second call from the cache without a token request', async () => {
      const { users, apps, tenants } = entra.defaults;
      const token = await tokenFor(users.member);
      const before = entra.tokenRequests().length;

      const first = await call('/downstream', token);
      expect(first.status).toBe(200);
      expect(first.json).toMatchObject({ fromCache: false, aud: apps.downstreamApi.app.clientId, oid: users.member.id, tid: tenants.primary.id, azp: apps.middleTierApi.app.clientId });
      expect(String(first.json!.scp).split(' ')).toContain('Profile.Read');
      expect(entra.tokenRequests().length).toBe(before + 1);

      const second = await call('/downstream', token);
      expect(second.status).toBe(200);
      expect(second.json).toMatchObject({ fromCache: true, oid: users.member.id });
      expect(entra.tokenRequests().length).toBe(before + 1);
    });

    it('makes exactly one token request for 100 concurrent calls of one user on a cold cache', async () => {
      const user = freshUser('concurrent');
      const token = await tokenFor(user);
      const before = oboRequestCount();

      const results = await Promise.all(Array.from({ length: 100 }, () => call('/downstream', token)));

      expect(results.map((answer) => answer.status)).toEqual(Array(100).fill(200));
      expect(new Set(results.map((answer) => answer.json!.oid))).toEqual(new Set([user.id]));
      expect(oboRequestCount() - before).toBe(1);
    });

    it(`gives each of ${MANY_USERS} concurrent users a token for themselves, with one exchange per user`, async () => {
      const tokens = await Promise.all(manyUsers.map((user) => tokenFor(user)));
      const before = oboRequestCount();

      const results = await Promise.all(manyUsers.map((_, index) => call('/downstream', tokens[index])));

      const mismatches = results
        .map((answer, index) => ({ status: answer.status, expected: manyUsers[index]!.id, got: answer.json?.oid }))
        .filter(({ status, expected, got }) => status !== 200 || got !== expected);
      expect(mismatches).toEqual([]);
      expect(oboRequestCount() - before).toBe(MANY_USERS);
    });
  });

  describe("the caller's tenant", () => {
    it("exchanges a guest's token at the resource tenant the token was issued in", async () => {
      const { users, tenants } = entra.defaults;
      const token = await tokenFor(users.guest);
      const atPrimary = oboRequestCount(tenants.primary.id);

      const answer = await call('/downstream', token);

      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ oid: users.guest.id, tid: tenants.primary.id });
      expect(oboRequestCount(tenants.primary.id)).toBe(atPrimary + 1);
    });

    it("exchanges a multi-tenant caller's token at the caller's own tenant, never at /organizations or /common", async () => {
      const { users, tenants } = entra.defaults;
      const options = middleTierOptions(entra, { tenantId: 'organizations', allowedTenants: [tenants.primary.id, tenants.secondary.id] });
      await withApp(adapter, options, async ({ url: multiTenantUrl }) => {
        const token = await tokenFor(users.secondTenantMember);
        const atSecondary = oboRequestCount(tenants.secondary.id);

        const answer = await call('/downstream', token, multiTenantUrl);

        expect(answer.status).toBe(200);
        expect(answer.json).toMatchObject({ oid: users.secondTenantMember.id, tid: tenants.secondary.id, fromCache: false });
        expect(oboRequestCount(tenants.secondary.id)).toBe(atSecondary + 1);
        const latest = entra.tokenRequests({ grantType: JWT_BEARER_GRANT }).at(-1)!;
        expect(latest.path).toBe(`/${tenants.secondary.id}/oauth2/v2.0/token`);
      });
      expect(oboRequestCount('organizations') + oboRequestCount('common')).toBe(0);
    });
  });

  describe('what Entra refuses', () => {
    it("answers an MFA requirement with Entra's claims challenge, and serves the user once signed in with MFA", async () => {
      const { users, policies } = entra.defaults;
      const token = await tokenFor(users.mfaUser);

      const refused = await call('/downstream', token);

      expect(refused.status).toBe(401);
      const header = refused.headers.get('www-authenticate');
      // The challenge names the caller's authority (authorization_uri), where the client signs the user in again.
      const authorizationUri = `${entra.authorityHost}/${users.mfaUser.tenantId}/oauth2/v2.0/authorize`;
      expect(header).toMatch(new RegExp(`^Bearer realm="", authorization_uri="${authorizationUri}", error="insufficient_claims", claims="[A-Za-z0-9+/]+=*"$`));
      const claims = JSON.parse(Buffer.from(challengeParams(header).claims!, 'base64').toString('utf8')) as unknown;
      expect(claims).toEqual({ access_token: { capolids: { essential: true, values: [policies.mfaForDownstream.id] } } });
      expectNoLeak(refused, users.mfaUser, token);

      const withMfa = await tokenFor(users.mfaUser, { amr: ['pwd', 'mfa'] });
      const served = await call('/downstream', withMfa);
      expect(served.status).toBe(200);
      expect(served.json).toMatchObject({ oid: users.mfaUser.id, fromCache: false });
    });

    it('answers missing consent with 403 naming the scopes that need it', async () => {
      const { apps } = entra.defaults;
      addedPolicies.push(entra.policies.denyConsent({ client: apps.middleTierApi.app.clientId, resource: apps.downstreamApi.app.clientId }).id);
      const user = freshUser('noconsent');
      const token = await tokenFor(user);

      const answer = await call('/downstream', token);

      expect(answer.status).toBe(403);
      expect(answer.json).toMatchObject({ statusCode: 403, error: 'consent_required', scopes: [DOWNSTREAM_READ] });
      expect(String(answer.json!.message)).toContain(DOWNSTREAM_READ);
      expect(answer.headers.get('www-authenticate') ?? '').not.toContain('claims=');
      expectNoLeak(answer, user, token);
    });

    it('answers a Conditional Access block with 403 naming the block, without a claims challenge', async () => {
      const { apps } = entra.defaults;
      const user = freshUser('blocked');
      addedPolicies.push(entra.policies.blockAccess({ resource: apps.downstreamApi.app.clientId, users: [user.id] }).id);
      const token = await tokenFor(user);

      const answer = await call('/downstream', token);

      expect(answer.status).toBe(403);
      expect(answer.json).toMatchObject({ statusCode: 403, error: 'conditional_access_blocked' });
      expect(String(answer.json!.message)).toMatch(/Conditional Access/);
      expect(answer.headers.get('www-authenticate') ?? '').not.toContain('claims=');
      expectNoLeak(answer, user, token);
    });

    it('refuses an app-only token on routes that act for a user, without a token request', async () => {
      const token = await daemonToken(entra);
      issuedTokens.push(token);
      const before = oboRequestCount();

      const anyScope = await call('/downstream-any-scope', token);
      const guarded = await call('/downstream', token);

      for (const answer of [anyScope, guarded]) {
        expect(answer.status).toBe(403);
        expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope"/);
        expect(answer.text).not.toContain(token);
      }
      expect(oboRequestCount()).toBe(before);
    });
  });

  describe('when Entra is throttling or failing', () => {
    it('times out a slow token request and answers 503 with Retry-After', async () => {
      await withApp(adapter, middleTierOptions(entra, { timeoutMs: 500, retries: 0 }), async ({ url: impatientUrl }) => {
        const user = freshUser('slow');
        const token = await tokenFor(user);
        entra.faults.inject({ type: 'delay', ms: 3000 }, { grantType: JWT_BEARER_GRANT });
        const before = oboRequestCount();

        const answer = await call('/downstream', token, impatientUrl);

        expect(answer.status).toBe(503);
        expect(answer.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
        expect(oboRequestCount() - before).toBe(1);
        expectNoLeak(answer, user, token);
      });
    });

    it("passes a 429's Retry-After on as 503, does not retry it, and caches nothing", async () => {
      const user = freshUser('throttled');
      const token = await tokenFor(user);
      entra.faults.inject({ type: 'throttle', retryAfterSec: 7 }, { grantType: JWT_BEARER_GRANT });
      const before = oboRequestCount();

      const throttled = await call('/downstream', token);

      expect(throttled.status).toBe(503);
      expect(throttled.headers.get('retry-after')).toBe('7');
      expect(oboRequestCount() - before).toBe(1);
      expectNoLeak(throttled, user, token);

      // Once the Retry-After has passed (before it, the request is answered locally: entra-throttling.e2e.spec.ts).
      entra.clock.advanceSec(8);
      const next = await call('/downstream', token);
      expect(next.status).toBe(200);
      expect(next.json).toMatchObject({ fromCache: false, oid: user.id });
      expect(oboRequestCount() - before).toBe(2);
    });

    it('treats a plain-text 429 as throttling: 503 with its Retry-After, not retried', async () => {
      const user = freshUser('plaintext');
      const token = await tokenFor(user);
      entra.faults.inject({ type: 'throttle', retryAfterSec: 11, body: 'text' }, { grantType: JWT_BEARER_GRANT });
      const before = oboRequestCount();

      const answer = await call('/downstream', token);

      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('11');
      expect(oboRequestCount() - before).toBe(1);
    });

    it('retries 503s and succeeds on the third attempt with retries: 2', async () => {
      await withApp(adapter, middleTierOptions(entra, { retries: 2, timeoutMs: 20_000 }), async ({ url: retryingUrl }) => {
        const user = freshUser('flaky');
        const token = await tokenFor(user);
        entra.faults.inject({ type: 'server-error', status: 503 }, { grantType: JWT_BEARER_GRANT, times: 2 });
        const before = oboRequestCount();

        const answer = await call('/downstream', token, retryingUrl);

        expect(answer.status).toBe(200);
        expect(answer.json).toMatchObject({ oid: user.id, fromCache: false });
        expect(oboRequestCount() - before).toBe(3);
      });
    });

    it('gives up after retries + 1 attempts and answers 503 with Retry-After', async () => {
      const retries = 2;
      await withApp(adapter, middleTierOptions(entra, { retries, timeoutMs: 20_000 }), async ({ url: retryingUrl }) => {
        const user = freshUser('down');
        const token = await tokenFor(user);
        entra.faults.inject({ type: 'server-error', status: 503 }, { grantType: JWT_BEARER_GRANT, times: retries + 3 });
        const before = oboRequestCount();

        const answer = await call('/downstream', token, retryingUrl);

        expect(answer.status).toBe(503);
        expect(answer.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
        expect(answer.json).toMatchObject({ statusCode: 503 });
        expect(oboRequestCount() - before).toBe(retries + 1);
        expectNoLeak(answer, user, token);
      });
    });

    it('retries after a connection reset', async () => {
      const user = freshUser('reset');
      const token = await tokenFor(user);
      entra.faults.inject({ type: 'reset' }, { grantType: JWT_BEARER_GRANT });
      const before = oboRequestCount();

      const answer = await call('/downstream', token);

      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ oid: user.id, fromCache: false });
      const attempts = entra.tokenRequests({ grantType: JWT_BEARER_GRANT }).slice(before);
      expect(attempts.map((request) => request.fault)).toEqual(['reset', undefined]);
    });

    it('answers 503 after its retries when Entra keeps sending malformed JSON, and the next call exchanges again', async () => {
      const user = freshUser('garbled');
      const token = await tokenFor(user);
      // The main app retries once: two malformed answers exhaust it.
      entra.faults.inject({ type: 'malformed-json' }, { grantType: JWT_BEARER_GRANT, times: 2 });
      const before = oboRequestCount();

      const answer = await call('/downstream', token);

      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(oboRequestCount() - before).toBe(2);
      expectNoLeak(answer, user, token);

      const next = await call('/downstream', token);
      expect(next.status).toBe(200);
      expect(next.json).toMatchObject({ fromCache: false });
      expect(oboRequestCount() - before).toBe(3);
    });

    it("does not let one user's throttling block another user's exchange", async () => {
      const throttledUser = freshUser('usera');
      const otherUser = freshUser('userb');
      const [throttledToken, otherToken] = await Promise.all([tokenFor(throttledUser), tokenFor(otherUser)]);
      // No clientId: the fault hits whichever token request comes next, which is user A's.
      entra.faults.inject({ type: 'throttle', retryAfterSec: 30 }, { grantType: JWT_BEARER_GRANT });

      const throttled = await call('/downstream', throttledToken);
      expect(throttled.status).toBe(503);
      expect(entra.faults.pending).toBe(0);

      const before = oboRequestCount();
      const other = await call('/downstream', otherToken);
      expect(other.status).toBe(200);
      expect(other.json).toMatchObject({ oid: otherUser.id, fromCache: false });
      expect(oboRequestCount() - before).toBe(1);
    });

    it('caches nothing from a failed exchange: after each kind of failure the next call asks Entra again', async () => {
      const { users } = entra.defaults;
      const failures = [
        { type: 'throttle', retryAfterSec: 5 },
        { type: 'server-error', status: 500 },
        { type: 'malformed-json' },
      ] as const;
      for (const fault of failures) {
        const user = freshUser(`failed-${fault.type}`);
        const token = await tokenFor(user);
        // times: 2 so that the main app's one retry fails too (a 429 is not retried; its second copy is cleared below).
        entra.faults.inject(fault, { grantType: JWT_BEARER_GRANT, times: 2 });
        expect((await call('/downstream', token)).status).toBe(503);
        entra.faults.clear();
        // A 429 is remembered until its Retry-After; past it, nothing of the failure is left.
        entra.clock.advanceSec(6);
        const before = oboRequestCount();
        const next = await call('/downstream', token);
        expect({ fault: fault.type, status: next.status, fromCache: next.json?.fromCache }).toEqual({ fault: fault.type, status: 200, fromCache: false });
        expect(oboRequestCount() - before).toBe(1);
      }
      // And an MFA refusal is not remembered either: the same token is refused again by Entra, not by a cache.
      const mfaToken = await tokenFor(users.mfaUser);
      expect((await call('/downstream', mfaToken)).status).toBe(401);
      const before = oboRequestCount();
      expect((await call('/downstream', mfaToken)).status).toBe(401);
      expect(oboRequestCount() - before).toBe(1);
    });
  });

  describe("this API's own credential", () => {
    it('answers 500 with a generic body when Entra rejects our client secret', async () => {
      const wrongSecret = 'wrong-secret-Zq8~not-registered';
      await withApp(adapter, middleTierOptions(entra, { credential: { clientSecret: wrongSecret } }), async ({ url: misconfiguredUrl }) => {
        const { users, apps } = entra.defaults;
        const token = await tokenFor(users.member);
        const before = oboRequestCount();

        const answer = await call('/downstream', token, misconfiguredUrl);

        expect(answer.status).toBe(500);
        expect(answer.json).toEqual({ statusCode: 500, error: 'internal_error', message: expect.any(String) });
        expect(answer.text).not.toMatch(/AADSTS|invalid_client|secret/i);
        expect(answer.headers.get('www-authenticate')).toBeNull();
        expect(leakedValues(answer, { wrongSecret, realSecret: apps.middleTierApi.clientSecret, ...userSecrets(users.member, token) })).toEqual([]);
        // A rejected credential is a configuration error: retrying cannot fix it.
        expect(oboRequestCount() - before).toBe(1);
      });
    });

    it('works with a certificate credential', async () => {
      const { users, apps } = entra.defaults;
      const credential = { clientCertificate: { privateKey: apps.middleTierApi.certificate.privateKeyPem, certificate: apps.middleTierApi.certificate.certificatePem } };
      await withApp(adapter, middleTierOptions(entra, { credential }), async ({ app: certificateApp, url: certificateUrl }) => {
        const token = await tokenFor(users.member);

        const answer = await call('/downstream', token, certificateUrl);
        expect(answer.status).toBe(200);
        expect(answer.json).toMatchObject({ oid: users.member.id, azp: apps.middleTierApi.app.clientId, fromCache: false });

        // The downstream token records how this API authenticated: `azpacr` "2" is a certificate.
        const acquired = await certificateApp.get(TokenAcquisitionService).acquireTokenOnBehalfOf(await tokenFor(users.member), DOWNSTREAM_READ);
        expect(decodeJwt(acquired.accessToken).azpacr).toBe('2');
      });
    });
  });

  it('never puts a token or a secret in any response of this suite, nor a user claim in an error response', () => {
    const { apps, users } = entra.defaults;
    const secrets: Record<string, string> = {
      middleTierSecret: apps.middleTierApi.clientSecret,
      webAppSecret: apps.webApp.clientSecret,
      daemonSecret: apps.daemon.clientSecret,
      certificateKey: apps.middleTierApi.certificate.privateKeyPem.split('\n')[1]!,
    };
    issuedTokens.forEach((token, index) => (secrets[`token #${index}`] = token));
    const claimValues: Record<string, string> = {};
    for (const user of [...Object.values(users), ...entra.directory.users]) {
      claimValues[`name of ${user.id}`] = user.displayName;
      claimValues[`username of ${user.id}`] = user.username;
      claimValues[`oid of ${user.id}`] = user.id;
    }
    expect(answers.length).toBeGreaterThan(MANY_USERS);
    const leaks = answers.flatMap((answer, index) => [
      ...leakedValues(answer, secrets),
      ...(answer.status >= 400 ? leakedValues(answer, claimValues) : []),
    ].map((label) => `answer #${index} (${answer.status}): ${label}`));
    expect(leaks).toEqual([]);
  });
});
