// The guard's security behaviour over real HTTP, on Express and Fastify: every way a token can be wrong must end in
// the RFC 6750 answer of the README's "Errors (RFC 6750)" table (status + exact WWW-Authenticate form) without echoing the token or its claims.
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { decodeJwt } from 'jose';
import { AccessTokenVerifier, OboConfigurationError, type OboModuleOptions } from '../../src/index.js';
import type { EmulatorUser, EntraEmulator, IssueAccessTokenOptions } from '../../src/testing/index.js';
import { useEmulator } from '../support/emulator.js';
import { useTestApp } from '../support/test-app.js';
import { startGuardedByDefaultApp } from './support/guarded-by-default-app.js';
import { ADAPTERS, middleTierOptions, startTestApp, type AdapterName } from './support/test-app.js';
import {
  claimsOf,
  fetchPublishedKeys,
  fetchWithKeysPublishedFor,
  generateAttackerCertificate,
  generateAttackerKey,
  headerOf,
  publicKeyMaterials,
  signToken,
  startKeyServer,
  unsignedToken,
  type AttackerKey,
  type PublishedJwk,
} from './support/token-forgery.js';

const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const INVALID_TOKEN_CHALLENGE = /^Bearer error="invalid_token", error_description="((?:[^"\\]|\\.)+)"$/;
const DEFAULT_TOLERANCE_SEC = 60;
/** The tenant of personal Microsoft accounts (Microsoft identity platform, "ID token claims reference", `tid`). */
const CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

interface Answer {
  status: number;
  challenge: string | null;
  text: string;
  body: unknown;
}

async function call(baseUrl: string, path: string, authorization?: string): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, authorization === undefined ? {} : { headers: { authorization } });
  const text = await response.text();
  return { status: response.status, challenge: response.headers.get('www-authenticate'), text, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/**
 * The token, its segments, and every claim value long enough to mean something. Shorter ones (`ver: "2.0"`,
 * `azpacr: "1"`, `idtyp: "app"`) are left out because they occur in any text by chance.
 */
function sensitiveValuesOf(token: string): string[] {
  const values = new Set<string>([token, ...token.split('.').filter((segment) => segment.length >= 8)]);
  let claims: Record<string, unknown> = {};
  try {
    claims = decodeJwt(token) as Record<string, unknown>;
  } catch {
    // Garbage has no claims; the token text itself is still checked.
  }
  for (const value of Object.values(claims)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if ((typeof item === 'string' || typeof item === 'number') && String(item).length >= 6) values.add(String(item));
    }
  }
  return [...values];
}

function expectNothingLeaked(answer: Answer, token: string): void {
  const exposed = `${answer.challenge ?? ''}\n${answer.text}`;
  expect(sensitiveValuesOf(token).filter((value) => exposed.includes(value))).toEqual([]);
}

/** 401 `Bearer error="invalid_token", error_description="…"`, the description naming the check that failed. */
async function expectInvalidToken(baseUrl: string, token: string, failedCheck: RegExp, path = '/me'): Promise<void> {
  const answer = await call(baseUrl, path, `Bearer ${token}`);
  expect(answer.status).toBe(401);
  expect(answer.challenge).toMatch(INVALID_TOKEN_CHALLENGE);
  expect(INVALID_TOKEN_CHALLENGE.exec(answer.challenge ?? '')?.[1]).toMatch(failedCheck);
  expect(answer.body).toMatchObject({ statusCode: 401, error: 'invalid_token' });
  expectNothingLeaked(answer, token);
}

/** 403 `Bearer error="insufficient_scope", scope="…", error_description="…"`. */
async function expectInsufficientScope(baseUrl: string, token: string, path: string, scope: string): Promise<void> {
  const answer = await call(baseUrl, path, `Bearer ${token}`);
  expect(answer.status).toBe(403);
  const escaped = scope.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  expect(answer.challenge).toMatch(new RegExp(`^Bearer error="insufficient_scope", scope="${escaped}", error_description="[^"]+"$`));
  expect(answer.body).toMatchObject({ statusCode: 403, error: 'insufficient_scope' });
  expectNothingLeaked(answer, token);
}

/** 401 with the bare `Bearer` challenge: the request carried no bearer token at all. */
async function expectBareChallenge(baseUrl: string, path: string, authorization?: string): Promise<void> {
  const answer = await call(baseUrl, path, authorization);
  expect(answer.status).toBe(401);
  expect(answer.challenge).toBe('Bearer');
  expect(answer.body).toMatchObject({ statusCode: 401, error: 'unauthorized' });
  const credentials = authorization?.includes(' ') ? authorization.slice(authorization.indexOf(' ') + 1) : '';
  if (credentials) expectNothingLeaked(answer, credentials);
}

/** 200 without a challenge; returns the body. */
async function expectOk(baseUrl: string, path: string, token: string): Promise<unknown> {
  const answer = await call(baseUrl, path, `Bearer ${token}`);
  // One comparison, so that a refusal shows its error body next to the status.
  expect({ status: answer.status, challenge: answer.challenge, body: answer.status === 200 ? 'ok' : answer.body }).toEqual({ status: 200, challenge: null, body: 'ok' });
  return answer.body;
}

/** Polls `check` until it holds, for a generous 10 s at most (background work, no timing asserted). */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

/** Token minting against the default directory's middle-tier API. */
function tokensFor(entra: () => EntraEmulator) {
  return {
    user(user?: EmulatorUser, extra: Partial<IssueAccessTokenOptions> = {}): Promise<string> {
      const { apps, users } = entra().defaults;
      return entra().issueAccessToken({ user: user ?? users.member, client: apps.webApp.app, resource: apps.middleTierApi.app, scopes: ['access_as_user'], ...extra });
    },
    daemon(extra: Partial<IssueAccessTokenOptions> = {}): Promise<string> {
      const { apps } = entra().defaults;
      return entra().issueAccessToken({ client: apps.daemon.app, resource: apps.middleTierApi.app, roles: ['Tasks.Read.All'], ...extra });
    },
  };
}

/** Starts an extra app for the duration of a describe block (its own options, same emulator). */
function useExtraApp(adapter: AdapterName, entra: () => EntraEmulator, overrides: () => Partial<OboModuleOptions>, extras: { globalGuard?: boolean } = {}): () => string {
  let app: INestApplication | undefined;
  let url = '';
  beforeAll(async () => {
    ({ app, url } = await startTestApp(adapter, middleTierOptions(entra(), overrides()), extras));
  });
  afterAll(async () => {
    await app?.close();
  });
  return () => url;
}

describe.each(ADAPTERS)('access-token validation on %s', (adapter) => {
  const entra = useEmulator();
  const api = useTestApp(adapter, entra);
  const tokens = tokensFor(() => entra);

  describe('a valid token', () => {
    it('is accepted and its principal attached', async () => {
      const { users, tenants } = entra.defaults;
      expect(await expectOk(api.url, '/me', await tokens.user())).toEqual({
        oid: users.member.id,
        tid: tenants.primary.id,
        name: users.member.displayName,
        username: users.member.username,
        scopes: ['access_as_user'],
        roles: [],
        isGuest: false,
        isAppOnly: false,
      });
    });

    it('is accepted with a lower-case scheme (RFC 6750: the scheme is case-insensitive)', async () => {
      const answer = await call(api.url, '/me', `bearer ${await tokens.user()}`);
      expect(answer.status).toBe(200);
    });

    it('is accepted with several spaces after the scheme (RFC 6750 §2.1: "Bearer" 1*SP b64token)', async () => {
      const token = await tokens.user();
      expect((await call(api.url, '/me', `Bearer  ${token}`)).status).toBe(200);
      // Remembered now: the guard compares the header with the one that carried the token, and a new spelling by its token.
      expect((await call(api.url, '/me', `bearer     ${token}`)).status).toBe(200);
      expect((await call(api.url, '/me', `Bearer  ${token}`)).status).toBe(200);
    });

    it('is accepted with the App ID URI as audience (api://{clientId})', async () => {
      const clientId = entra.defaults.apps.middleTierApi.app.clientId;
      await expectOk(api.url, '/me', await tokens.user(undefined, { claims: { aud: `api://${clientId}` } }));
    });

    it('is accepted in v1 form (iss https://sts.windows.net/{tid}/, aud api://{clientId}, upn)', async () => {
      const { users, tenants, apps } = entra.defaults;
      const token = await tokens.user(undefined, { version: 1 });
      expect(claimsOf(token)).toMatchObject({ iss: `https://sts.windows.net/${tenants.primary.id}/`, aud: `api://${apps.middleTierApi.app.clientId}`, ver: '1.0' });
      expect(await expectOk(api.url, '/me', token)).toMatchObject({ oid: users.member.id, tid: tenants.primary.id, username: users.member.username, scopes: ['access_as_user'] });
    });

    it('is not needed on a @Public() route, and a bad one there is ignored', async () => {
      expect(await call(api.url, '/public')).toMatchObject({ status: 200, challenge: null, body: { ok: true } });
      expect(await call(api.url, '/public', 'Bearer garbage')).toMatchObject({ status: 200, body: { ok: true } });
    });
  });

  describe('no bearer token', () => {
    it('answers 401 with a bare Bearer challenge without an Authorization header', async () => {
      await expectBareChallenge(api.url, '/me');
    });

    it('answers 401 with a bare Bearer challenge for the Basic scheme', async () => {
      await expectBareChallenge(api.url, '/me', `Basic ${Buffer.from('alice:password').toString('base64')}`);
    });

    it('answers 401 with a bare Bearer challenge for another scheme carrying a valid token, without echoing it', async () => {
      await expectBareChallenge(api.url, '/me', `Token ${await tokens.user()}`);
    });

    it('answers 401 with a bare Bearer challenge for "Bearer" without a token', async () => {
      await expectBareChallenge(api.url, '/me', 'Bearer');
    });
  });

  describe('a token that is not a JWT', () => {
    it.each(['garbage', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.e30'])('refuses "Bearer %s" as invalid_token', async (garbage) => {
      await expectInvalidToken(api.url, garbage, /JWT|JWS/);
    });
  });

  describe('a forged signature', () => {
    let genuine: string;
    let realKid: string;
    let publishedKey: PublishedJwk;
    let attacker: AttackerKey;

    beforeAll(async () => {
      genuine = await tokens.user();
      realKid = String(headerOf(genuine).kid);
      const published = await fetchPublishedKeys(entra, entra.defaults.tenants.primary.id);
      publishedKey = published.find((key) => key.kid === realKid)!;
      attacker = await generateAttackerKey(`attacker-${randomUUID()}`);
    });

    it('accepts the genuine token whose claims the forgeries copy (control)', async () => {
      expect(publishedKey).toBeDefined();
      await expectOk(api.url, '/me', genuine);
    });

    it.each(['none', 'None', 'NONE'])('refuses alg "%s" (unsigned) with a real kid', async (alg) => {
      const token = unsignedToken({ typ: 'JWT', kid: realKid, x5t: realKid }, claimsOf(genuine), alg);
      await expectInvalidToken(api.url, token, /RS256/);
    });

    it.each(['spki PEM', 'certificate PEM', 'modulus (n) text', 'modulus (n) bytes'] as const)(
      'refuses HS256 keyed with the published public key (%s) and the real kid: key confusion',
      async (form) => {
        const secret = publicKeyMaterials(publishedKey)[form];
        const token = await signToken({ typ: 'JWT', alg: 'HS256', kid: realKid, x5t: realKid }, claimsOf(genuine), secret);
        await expectInvalidToken(api.url, token, /RS256/);
      },
    );

    it('refuses PS256, even signed by the identity provider key itself (RS256 only)', async () => {
      const token = await tokens.user(undefined, { header: { alg: 'PS256' } });
      expect(headerOf(token).alg).toBe('PS256');
      await expectInvalidToken(api.url, token, /RS256/);
    });

    it('refuses a token that ends like one validated before: the memory of validated tokens compares them whole', async () => {
      await expectOk(api.url, '/me', genuine); // remembered now
      const [header, payload, signature] = genuine.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const otherPayload = Buffer.from(JSON.stringify({ ...claims, oid: randomUUID(), name: 'Mallory' })).toString('base64url');
      const sameEnding = `${header}.${otherPayload}.${signature}`;
      expect(sameEnding.slice(-43)).toBe(genuine.slice(-43));
      await expectInvalidToken(api.url, sameEnding, /signature/);
      await expectOk(api.url, '/me', genuine); // and the genuine one is still accepted
    });

    it('refuses RS256 signed by another RSA key under a real kid', async () => {
      const token = await signToken({ typ: 'JWT', alg: 'RS256', kid: realKid, x5t: realKid }, claimsOf(genuine), attacker.privateKey);
      await expectInvalidToken(api.url, token, /signature/);
    });

    it('refuses RS256 signed by another RSA key under its own (unknown) kid', async () => {
      const token = await signToken({ typ: 'JWT', alg: 'RS256', kid: attacker.publicJwk.kid }, claimsOf(genuine), attacker.privateKey);
      await expectInvalidToken(api.url, token, /not signed by a key of the identity provider/);
    });

    it('refuses a token that names no kid', async () => {
      await expectInvalidToken(api.url, await tokens.user(undefined, { header: { kid: undefined, x5t: undefined } }), /kid/);
    });

    it.each([
      ['its own kid', () => attacker.publicJwk.kid],
      ['the real kid', () => realKid],
    ])('refuses a jwk header carrying the attacker key, under %s', async (_label, kid) => {
      const token = await signToken({ typ: 'JWT', alg: 'RS256', kid: kid(), jwk: attacker.publicJwk }, claimsOf(genuine), attacker.privateKey);
      await expectInvalidToken(api.url, token, /own key/);
    });

    it('refuses an x5c header carrying an attacker certificate', async () => {
      const certificate = await generateAttackerCertificate();
      const token = await signToken({ typ: 'JWT', alg: 'RS256', kid: realKid, x5c: certificate.x5c }, claimsOf(genuine), certificate.privateKey);
      await expectInvalidToken(api.url, token, /own key/);
    });

    it.each(['jku', 'x5u'])('refuses a %s header pointing at an attacker key server, and never calls it', async (parameter) => {
      const server = await startKeyServer([attacker.publicJwk]);
      try {
        for (const kid of [attacker.publicJwk.kid, realKid]) {
          const token = await signToken({ typ: 'JWT', alg: 'RS256', kid, [parameter]: `${server.url}/keys` }, claimsOf(genuine), attacker.privateKey);
          await expectInvalidToken(api.url, token, /own key/);
        }
        expect(server.requests).toEqual([]);
        // The server does record requests, so the empty list above is evidence, not a broken recorder.
        await fetch(`${server.url}/keys`);
        expect(server.requests).toEqual(['GET /keys']);
      } finally {
        await server.close();
      }
    });
  });

  // Microsoft.IdentityModel (AadTokenValidationParametersExtension.EnableAadSigningKeyIssuerValidation, in
  // github.com/AzureAD/azure-activedirectory-identitymodel-extensions-for-dotnet, src/Microsoft.IdentityModel.Validators)
  // substitutes the token's tid into the key's `issuer` and compares it with the token's issuer and with the v2 issuer
  // for that tid, so a key published for another tenant signs for nobody else, whatever the token's issuer form.
  describe('a genuine signature by a key published for another tenant (forged-key incident)', () => {
    const forgedKeysUrl = useExtraApp(adapter, () => entra, () => ({ fetch: fetchWithKeysPublishedFor(entra, entra.issuer(CONSUMERS_TENANT_ID)) }));
    const templatedKeysUrl = useExtraApp(adapter, () => entra, () => ({ fetch: fetchWithKeysPublishedFor(entra, `${entra.authorityHost}/{tenantid}/v2.0`) }));

    it.each([
      ['v2', 2],
      ['v1', 1],
    ] as const)('refuses a %s-issuer token signed by a key whose issuer names the consumers tenant', async (_label, version) => {
      const token = await tokens.user(undefined, { version });
      expect(claimsOf(token).iss).toBe(entra.issuer(entra.defaults.tenants.primary.id, version));
      await expectInvalidToken(forgedKeysUrl(), token, /signing key is not published for the token issuer/);
    });

    it.each([
      ['v2', 2],
      ['v1', 1],
    ] as const)('accepts a %s-issuer token signed by a key published for the {tenantid} template (control)', async (_label, version) => {
      await expectOk(templatedKeysUrl(), '/me', await tokens.user(undefined, { version }));
    });
  });

  describe('lifetime (default tolerance 60 s)', () => {
    const now = () => entra.clock.nowSec();

    it('refuses a token that expired beyond the tolerance', async () => {
      await expectInvalidToken(api.url, await tokens.user(undefined, { claims: { exp: now() - DEFAULT_TOLERANCE_SEC - 60 } }), /expired/);
    });

    it('accepts a token that expired 30 s ago, within the tolerance', async () => {
      await expectOk(api.url, '/me', await tokens.user(undefined, { claims: { exp: now() - 30 } }));
    });

    it('refuses a token without exp', async () => {
      await expectInvalidToken(api.url, await tokens.user(undefined, { claims: { exp: undefined } }), /expiry/);
    });

    it('refuses a token whose nbf is beyond the tolerance in the future', async () => {
      await expectInvalidToken(api.url, await tokens.user(undefined, { claims: { nbf: now() + DEFAULT_TOLERANCE_SEC + 60 } }), /not valid yet/);
    });

    it('accepts a token whose nbf is 30 s in the future, within the tolerance', async () => {
      await expectOk(api.url, '/me', await tokens.user(undefined, { claims: { nbf: now() + 30 } }));
    });

    // RFC 7519 §4.1.4-4.1.6: exp, nbf and iat are NumericDate values (JSON numbers); jose refuses other types too.
    it.each([
      ['nbf as a string', () => ({ nbf: String(now() + 3600) })],
      ['nbf as an object', () => ({ nbf: { value: now() } })],
      ['exp as a string', () => ({ exp: String(now() + 3600) })],
      ['exp as null', () => ({ exp: null })],
      ['iat as a string', () => ({ iat: 'yesterday' })],
    ])('refuses a signed token with %s instead of ignoring the claim', async (_label, claims) => {
      await expectInvalidToken(api.url, await tokens.user(undefined, { claims: claims() }), /not a number|expiry/);
    });
  });

  describe('audience', () => {
    it.each([
      ['another API (client id)', () => entra.defaults.apps.downstreamApi.app.clientId],
      ['another API (App ID URI)', () => `api://${entra.defaults.apps.downstreamApi.app.clientId}`],
      ['Microsoft Graph', () => 'https://graph.microsoft.com'],
    ])('refuses a token for %s', async (_label, audience) => {
      await expectInvalidToken(api.url, await tokens.user(undefined, { claims: { aud: audience() } }), /not for this API/);
    });

    it('refuses a token without aud', async () => {
      await expectInvalidToken(api.url, await tokens.user(undefined, { claims: { aud: undefined } }), /not for this API/);
    });
  });

  describe('issuer and tenant (single-tenant API)', () => {
    it.each([
      ['the real Entra host', (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`],
      ['an attacker host', (tid: string) => `https://login.attacker.example/${tid}/v2.0`],
      ['the emulator host without /v2.0', (tid: string) => `${entra.authorityHost}/${tid}`],
    ])('refuses an iss of %s', async (_label, issuerFor) => {
      await expectInvalidToken(api.url, await tokens.user(undefined, { claims: { iss: issuerFor(entra.defaults.tenants.primary.id) } }), /expected authority/);
    });

    it('refuses the v2 issuer of another tenant with that tenant tid', async () => {
      const secondary = entra.defaults.tenants.secondary.id;
      await expectInvalidToken(api.url, await tokens.user(undefined, { claims: { iss: entra.issuer(secondary), tid: secondary } }), /issuer|tenant/);
    });

    it('refuses the issuer of another tenant next to our tid (issuer not bound to tid)', async () => {
      const secondary = entra.defaults.tenants.secondary.id;
      await expectInvalidToken(api.url, await tokens.user(undefined, { claims: { iss: entra.issuer(secondary) } }), /expected authority/);
      await expectInvalidToken(api.url, await tokens.user(undefined, { claims: { iss: entra.issuer(secondary, 1) } }), /expected authority/);
    });

    it('refuses a token without tid', async () => {
      await expectInvalidToken(api.url, await tokens.user(undefined, { claims: { tid: undefined } }), /tenant/);
    });

    it('refuses a genuine token from the secondary tenant (v2 and v1)', async () => {
      const dave = entra.defaults.users.secondTenantMember;
      await expectInvalidToken(api.url, await tokens.user(dave), /issuer|tenant/);
      // The v1 token is signed by a key our tenant publishes for its own issuer only: the key-issuer check or the
      // tenant check refuses it, whichever runs first.
      await expectInvalidToken(api.url, await tokens.user(dave, { version: 1 }), /issuer|tenant/);
    });
  });

  describe('token type', () => {
    it('refuses an ID token issued to the web app', async () => {
      const { users, apps } = entra.defaults;
      await expectInvalidToken(api.url, await entra.issueIdToken({ user: users.member, client: apps.webApp.app, nonce: 'n-1' }), /not for this API/);
    });

    it('refuses an ID token whose aud is this API (no scp, no roles)', async () => {
      const { users, apps } = entra.defaults;
      const idToken = await entra.issueIdToken({ user: users.member, client: apps.middleTierApi.app });
      expect(claimsOf(idToken).aud).toBe(apps.middleTierApi.app.clientId);
      await expectInvalidToken(api.url, idToken, /ID token/);
    });

    // Entra puts the app roles assigned to a user in the ID tokens it issues to that app, so when one registration is
    // both the sign-in client and the API, an ID token has the API's aud and a roles claim. It is still no access token.
    it('refuses an ID token whose aud is this API even when it carries assigned app roles', async () => {
      const { users, apps } = entra.defaults;
      const idToken = await entra.issueIdToken({ user: users.member, client: apps.middleTierApi.app, claims: { roles: ['Tasks.Read.All'] } });
      await expectInvalidToken(api.url, idToken, /ID token|access token/, '/either');
      await expectInvalidToken(api.url, idToken, /ID token|access token/, '/me');
    });

    it('refuses a user token with an empty scp and no roles', async () => {
      await expectInvalidToken(api.url, await tokens.user(undefined, { scopes: [] }), /no scope/);
    });
  });

  describe('scopes and roles (403)', () => {
    it('refuses an app-only token on a scope-only route', async () => {
      await expectInsufficientScope(api.url, await tokens.daemon(), '/me', 'access_as_user');
    });

    it('refuses an app-only token on the On-Behalf-Of route before any exchange', async () => {
      const before = entra.tokenRequests({ grantType: JWT_BEARER_GRANT }).length;
      await expectInsufficientScope(api.url, await tokens.daemon(), '/downstream', 'access_as_user');
      expect(entra.tokenRequests({ grantType: JWT_BEARER_GRANT }).length).toBe(before);
    });

    it('refuses an app-only token where @DownstreamToken acts for a user (no scope named)', async () => {
      const before = entra.tokenRequests({ grantType: JWT_BEARER_GRANT }).length;
      const token = await tokens.daemon();
      const answer = await call(api.url, '/downstream-any-scope', `Bearer ${token}`);
      expect(answer.status).toBe(403);
      expect(answer.challenge).toMatch(/^Bearer error="insufficient_scope", error_description="[^"]+"$/);
      expectNothingLeaked(answer, token);
      expect(entra.tokenRequests({ grantType: JWT_BEARER_GRANT }).length).toBe(before);
    });

    it('accepts an app-only token where a role suffices', async () => {
      const { apps, tenants } = entra.defaults;
      expect(await expectOk(api.url, '/either', await tokens.daemon())).toEqual({ oid: entra.directory.servicePrincipalId(apps.daemon.app, tenants.primary.id), isAppOnly: true });
    });

    it('refuses an app-only token with another role where a scope or a role would do, naming both', async () => {
      await expectInsufficientScope(api.url, await tokens.daemon({ roles: ['Tasks.Write.All'] }), '/either', 'access_as_user Tasks.Read.All');
    });

    it('refuses a user token with another scope, naming the one required', async () => {
      await expectInsufficientScope(api.url, await tokens.user(undefined, { claims: { scp: 'other' } }), '/me', 'access_as_user');
    });

    it('refuses a user token on a role-only route', async () => {
      await expectInsufficientScope(api.url, await tokens.user(), '/app', 'Tasks.Read.All');
    });
  });

  describe('guests (allowed by default)', () => {
    it('accepts a B2B guest and marks it', async () => {
      const { users, tenants } = entra.defaults;
      expect(await expectOk(api.url, '/me', await tokens.user(users.guest))).toMatchObject({ oid: users.guest.id, tid: tenants.primary.id, isGuest: true });
    });
  });

  describe('guests with allowGuests: false', () => {
    const guestFreeUrl = useExtraApp(adapter, () => entra, () => ({ allowGuests: false }));

    it('refuses a B2B guest', async () => {
      await expectInvalidToken(guestFreeUrl(), await tokens.user(entra.defaults.users.guest), /[Gg]uest/);
    });

    it('refuses a guest known only by its idp (no acct claim)', async () => {
      await expectInvalidToken(guestFreeUrl(), await tokens.user(entra.defaults.users.guest, { claims: { acct: undefined } }), /[Gg]uest/);
    });

    it('still accepts a member', async () => {
      await expectOk(guestFreeUrl(), '/me', await tokens.user());
    });

    it('refuses a guest whose delegated token carries roles and no scp (not app-only: oid differs from sub)', async () => {
      const token = await tokens.user(entra.defaults.users.guest, { scopes: [], claims: { acct: undefined, scp: undefined, roles: ['Tasks.Read.All'] } });
      expect(claimsOf(token)).not.toHaveProperty('scp');
      expect(claimsOf(token).oid).not.toBe(claimsOf(token).sub);
      await expectInvalidToken(guestFreeUrl(), token, /[Gg]uest/, '/either');
    });

    it('accepts a member whose delegated token carries roles and no scp, as a user, not app-only', async () => {
      const token = await tokens.user(undefined, { scopes: [], claims: { scp: undefined, roles: ['Tasks.Read.All'] } });
      expect(await expectOk(guestFreeUrl(), '/either', token)).toEqual({ oid: entra.defaults.users.member.id, isAppOnly: false });
    });

    it('accepts an app-only token without the optional idtyp claim (no scp, oid === sub)', async () => {
      const token = await tokens.daemon({ claims: { idtyp: undefined } });
      expect(await expectOk(guestFreeUrl(), '/either', token)).toMatchObject({ isAppOnly: true });
    });
  });

  describe('multi-tenant API with allowedTenants', () => {
    const multiUrl = useExtraApp(adapter, () => entra, () => ({ tenantId: 'organizations', allowedTenants: [entra.defaults.tenants.primary.id] }));

    it('accepts a token from an allowed tenant', async () => {
      expect(await expectOk(multiUrl(), '/me', await tokens.user())).toMatchObject({ tid: entra.defaults.tenants.primary.id });
    });

    it('refuses a genuine token from another tenant', async () => {
      await expectInvalidToken(multiUrl(), await tokens.user(entra.defaults.users.secondTenantMember), /tenant/);
    });

    it('binds the issuer to tid: an allowed tid next to another tenant issuer is refused', async () => {
      const secondary = entra.defaults.tenants.secondary.id;
      await expectInvalidToken(multiUrl(), await tokens.user(undefined, { claims: { iss: entra.issuer(secondary) } }), /expected authority/);
    });

    it('refuses another tenant token that claims an allowed tid', async () => {
      const dave = entra.defaults.users.secondTenantMember;
      await expectInvalidToken(multiUrl(), await tokens.user(dave, { claims: { tid: entra.defaults.tenants.primary.id } }), /expected authority/);
    });
  });

  describe('multi-tenant API with allowAnyTenant', () => {
    const anyUrl = useExtraApp(adapter, () => entra, () => ({ tenantId: 'organizations', allowAnyTenant: true }));

    it('accepts a token from any tenant', async () => {
      const { users, tenants } = entra.defaults;
      expect(await expectOk(anyUrl(), '/me', await tokens.user(users.secondTenantMember))).toMatchObject({ oid: users.secondTenantMember.id, tid: tenants.secondary.id });
      await expectOk(anyUrl(), '/me', await tokens.user());
    });

    it('still refuses a foreign issuer host', async () => {
      const primary = entra.defaults.tenants.primary.id;
      await expectInvalidToken(anyUrl(), await tokens.user(undefined, { claims: { iss: `https://login.microsoftonline.com/${primary}/v2.0` } }), /expected authority/);
    });
  });

  describe('personal Microsoft accounts (consumers tenant)', () => {
    let personal: EmulatorUser;
    const organizationsUrl = useExtraApp(adapter, () => entra, () => ({ tenantId: 'organizations', allowAnyTenant: true }));
    const commonUrl = useExtraApp(adapter, () => entra, () => ({ tenantId: 'common', allowAnyTenant: true }));
    const commonPersonalUrl = useExtraApp(adapter, () => entra, () => ({ tenantId: 'common', allowAnyTenant: true, allowPersonalAccounts: true }));

    beforeAll(() => {
      if (!entra.directory.findTenant(CONSUMERS_TENANT_ID)) entra.directory.addTenant({ id: CONSUMERS_TENANT_ID, displayName: 'Microsoft accounts', domain: 'live.example' });
      personal = entra.directory.findUser('pat@live.example') ?? entra.directory.addUser({ tenantId: CONSUMERS_TENANT_ID, username: 'pat@live.example' });
    });

    it("refuses a personal account under 'organizations', even with allowAnyTenant", async () => {
      const token = await tokens.user(personal);
      expect(claimsOf(token).tid).toBe(CONSUMERS_TENANT_ID);
      await expectInvalidToken(organizationsUrl(), token, /[Pp]ersonal Microsoft account/);
    });

    it("refuses a personal account under 'common' without allowPersonalAccounts", async () => {
      await expectInvalidToken(commonUrl(), await tokens.user(personal), /[Pp]ersonal Microsoft account/);
      await expectOk(commonUrl(), '/me', await tokens.user());
    });

    it("accepts a personal account under 'common' with allowPersonalAccounts: true", async () => {
      expect(await expectOk(commonPersonalUrl(), '/me', await tokens.user(personal))).toMatchObject({ oid: personal.id, tid: CONSUMERS_TENANT_ID });
      await expectOk(commonPersonalUrl(), '/me', await tokens.user(entra.defaults.users.secondTenantMember));
    });
  });

  describe('token length cap (maxTokenLengthBytes)', () => {
    const cappedUrl = useExtraApp(adapter, () => entra, () => ({ maxTokenLengthBytes: 4096 }));

    it('refuses a genuine token longer than the cap, which the default cap accepts', async () => {
      const token = await tokens.user(undefined, { claims: { padding: 'p'.repeat(4000) } });
      expect(token.length).toBeGreaterThan(4096);
      await expectOk(api.url, '/me', token);
      await expectInvalidToken(cappedUrl(), token, /longer than the 4096 bytes/);
    });

    it('refuses a 16 MB string handed to the verifier directly (a WebSocket or queue caller) before fetching or parsing anything', async () => {
      const verifier = api.app.get(AccessTokenVerifier);
      const jwksBefore = entra.requests.filter((request) => request.endpoint === 'jwks').length;
      const huge = `${'e'.repeat(16 * 1024 * 1024 - 2)}.x`;
      await expect(verifier.verify(huge)).rejects.toMatchObject({ code: 'invalid_token', reason: 'too_large' });
      // 250 KB (Microsoft.IdentityModel's DefaultMaximumTokenSizeInBytes, 1024 × 250) is the default cap.
      await expect(verifier.verify('a'.repeat(256_001))).rejects.toMatchObject({ reason: 'too_large' });
      await expect(verifier.verify('a'.repeat(256_000))).rejects.toMatchObject({ reason: 'malformed' });
      expect(entra.requests.filter((request) => request.endpoint === 'jwks').length).toBe(jwksBefore);
    });
  });

  describe('the principal shared by requests with one token', () => {
    it('is deeply frozen: a handler cannot change what the next request sees', async () => {
      const verifier = api.app.get(AccessTokenVerifier);
      const token = await tokens.user(undefined, { version: 1, amr: ['pwd'] });
      const first = await verifier.verify(token);
      const amr = first.claims.amr as string[];
      expect(amr).toEqual(['pwd']);
      expect(() => amr.push('mfa')).toThrow(TypeError);
      expect(() => ((first.claims as Record<string, unknown>).scp = 'admin')).toThrow(TypeError);
      expect(() => (first.scopes as string[]).push('admin')).toThrow(TypeError);
      const second = await verifier.verify(token);
      expect(second.claims.amr).toEqual(['pwd']);
      expect(second.claims.scp).toBe('access_as_user');
    });
  });

  describe('globalGuard: true', () => {
    let guarded: { app: INestApplication; url: string };
    const testAppUrl = useExtraApp(adapter, () => entra, () => ({}), { globalGuard: true });

    beforeAll(async () => {
      guarded = await startGuardedByDefaultApp(adapter, middleTierOptions(entra), true);
    });
    afterAll(async () => {
      await guarded?.app.close();
    });

    it('is what lets a route with @RequireScopes but no @UseGuards start at all: without it, bootstrap names the route (control)', async () => {
      const refused = startGuardedByDefaultApp(adapter, middleTierOptions(entra), false);
      await expect(refused).rejects.toThrow(OboConfigurationError);
      await expect(refused).rejects.toThrow(/GET \/plain-scoped \(UndecoratedController\.plainScoped\): uses @RequireScopes but no OboAuthGuard protects it/);
      await expect(refused).rejects.not.toThrow(/\/plain \(/);
    });

    it('protects a route without @UseGuards', async () => {
      await expectBareChallenge(guarded.url, '/plain');
      await expectInvalidToken(guarded.url, 'garbage', /JWT/, '/plain');
      expect(await expectOk(guarded.url, '/plain', await tokens.user())).toEqual({ caller: entra.defaults.users.member.id });
    });

    it('enforces @RequireScopes on a route without @UseGuards', async () => {
      await expectInsufficientScope(guarded.url, await tokens.daemon(), '/plain-scoped', 'access_as_user');
    });

    it('keeps @Public() routes open', async () => {
      expect(await call(guarded.url, '/open')).toMatchObject({ status: 200, body: { ok: true } });
      expect(await call(testAppUrl(), '/public')).toMatchObject({ status: 200, body: { ok: true } });
    });

    it('keeps the test app working under the global guard: On-Behalf-Of route without a scope requirement challenged, scoped route served', async () => {
      await expectBareChallenge(testAppUrl(), '/downstream-any-scope');
      await expectInvalidToken(testAppUrl(), await tokens.user(undefined, { claims: { exp: entra.clock.nowSec() - 3600 } }), /expired/, '/downstream-any-scope');
      await expectOk(testAppUrl(), '/me', await tokens.user());
    });
  });
});

describe.each(ADAPTERS)('signing keys and remembered tokens on %s', (adapter) => {
  const entra = useEmulator();
  // Each case moves the clock or changes the key ring: the emulator is reset and the app (its key cache) new for each.
  const api = useTestApp(adapter, entra, { per: 'test' });
  const tokens = tokensFor(() => entra);
  const jwksFetches = () => entra.requests.filter((request) => request.endpoint === 'jwks').length;
  const COOLDOWN_PASSED_SEC = 6 * 60;
  const PERIODIC_REFRESH_PASSED_SEC = 12 * 3600 + 60;
  const TWO_DAYS_SEC = 2 * 24 * 3600;

  it('accepts a token signed by a new key after rotation, with one refresh, and old-key tokens while that key is published', async () => {
    const oldToken = await tokens.user();
    await expectOk(api.url, '/me', oldToken);
    const fetchesBefore = jwksFetches();
    const { kid } = await entra.rotateSigningKeys();
    entra.clock.advanceSec(COOLDOWN_PASSED_SEC);

    const newToken = await tokens.user();
    expect(headerOf(newToken).kid).toBe(kid);
    await expectOk(api.url, '/me', newToken);
    expect(jwksFetches()).toBe(fetchesBefore + 1);
    await expectOk(api.url, '/me', oldToken);
  });

  it('refuses a remembered old-key token once the key is retired and an unknown kid has refreshed the set', async () => {
    const oldToken = await tokens.user();
    await expectOk(api.url, '/me', oldToken);
    await expectOk(api.url, '/me', oldToken);
    await entra.rotateSigningKeys({ retirePrevious: true });
    entra.clock.advanceSec(COOLDOWN_PASSED_SEC);

    await expectOk(api.url, '/me', await tokens.user());
    await expectInvalidToken(api.url, oldToken, /not signed by a key of the identity provider/);
  });

  it('serves a remembered token with the last good keys while the 12 h refresh runs in the background, then refuses it once its key is retired', async () => {
    const oldToken = await tokens.user(undefined, { lifetimeSec: TWO_DAYS_SEC });
    await expectOk(api.url, '/me', oldToken);
    const { previousKid } = await entra.rotateSigningKeys();
    entra.retireSigningKey(previousKid);
    entra.clock.advanceSec(PERIODIC_REFRESH_PASSED_SEC);

    const fetchesBefore = jwksFetches();
    // A token whose key is known never waits for the refresh: this one is served, and the refresh starts behind it.
    await expectOk(api.url, '/me', oldToken);
    const refused = await eventually(async () => (await call(api.url, '/me', `Bearer ${oldToken}`)).status === 401);
    expect(refused).toBe(true);
    await expectInvalidToken(api.url, oldToken, /not signed by a key of the identity provider/);
    // The periodic refresh, then one look for the now unknown kid (which starts the cooldown), and no more.
    expect(jwksFetches()).toBe(fetchesBefore + 2);
    await expectInvalidToken(api.url, oldToken, /not signed by a key of the identity provider/);
    await expectOk(api.url, '/me', await tokens.user());
    expect(jwksFetches()).toBe(fetchesBefore + 2);
  });

  it('lets a remembered token expire', async () => {
    const token = await tokens.user(undefined, { lifetimeSec: 600 });
    await expectOk(api.url, '/me', token);
    entra.clock.advanceSec(600 + DEFAULT_TOLERANCE_SEC - 10);
    await expectOk(api.url, '/me', token);
    entra.clock.advanceSec(20);
    await expectInvalidToken(api.url, token, /expired/);
  });

  it('lets a flood of unknown kids refresh the key set at most once per 5-minute cooldown', async () => {
    const flood = async (count: number) => {
      const forged = await Promise.all(Array.from({ length: count }, () => tokens.user(undefined, { header: { kid: randomUUID(), x5t: undefined } })));
      const answers = await Promise.all(forged.map((token) => call(api.url, '/me', `Bearer ${token}`)));
      expect(answers.map((answer) => answer.status)).toEqual(forged.map(() => 401));
      for (const answer of answers) expect(INVALID_TOKEN_CHALLENGE.exec(answer.challenge ?? '')?.[1]).toMatch(/not signed by a key of the identity provider/);
    };
    await expectOk(api.url, '/me', await tokens.user());
    const initial = jwksFetches();
    expect(initial).toBe(1);

    // The start-up fetch starts no cooldown: the first unknown kid refreshes at once, the rest of the flood waits.
    await flood(30);
    expect(jwksFetches()).toBe(initial + 1);
    await flood(30);
    expect(jwksFetches()).toBe(initial + 1);

    entra.clock.advanceSec(COOLDOWN_PASSED_SEC);
    await flood(30);
    expect(jwksFetches()).toBe(initial + 2);
    await flood(30);
    expect(jwksFetches()).toBe(initial + 2);

    entra.clock.advanceSec(COOLDOWN_PASSED_SEC);
    await flood(30);
    expect(jwksFetches()).toBe(initial + 3);
    // Genuine tokens keep working throughout.
    await expectOk(api.url, '/me', await tokens.user());
  });
});
