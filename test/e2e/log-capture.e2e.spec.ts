import type { INestApplication } from '@nestjs/common';
import type { EmulatorUser } from '../../src/testing/index.js';
import { useEmulator } from '../support/emulator.js';
import { JWT_BEARER_GRANT, daemonToken, get, userToken } from './support/http-calls.js';
import { CapturingLogger, startCapturedApp, type CapturedLevel } from './support/log-capture.js';
import { ADAPTERS, middleTierOptions } from './support/test-app.js';

/** A compact JWS (header and payload both JSON objects): an access, ID or refresh token, or a client assertion. */
const JWT_SHAPE = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/;
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

describe.each(ADAPTERS)('what the library logs, on %s', (adapter) => {
  // The suite's tests read the log lines of the ones before: the emulator is not reset between them.
  const entra = useEmulator({}, { reset: 'never' });
  const logger = new CapturingLogger();
  const apps: INestApplication[] = [];
  /** Every token the test minted and every downstream or app token the apps obtained. */
  const tokens: string[] = [];
  const seenTokens: string[] = [];
  const wrongSecret = 'wrong-secret-Kx7~never-registered';
  let consoleSpies: jest.SpyInstance[] = [];

  beforeAll(async () => {
    // Anything written straight to the console (by MSAL, or bypassing Nest's logger) counts as a log line too.
    consoleSpies = CONSOLE_METHODS.map((method) => jest.spyOn(console, method).mockImplementation((...args: unknown[]) => logger.capture('console', args[0], args.slice(1))));
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const spy of consoleSpies) spy.mockRestore();
  });

  async function start(overrides: Parameters<typeof middleTierOptions>[1] = {}): Promise<string> {
    const { app, url } = await startCapturedApp(adapter, middleTierOptions(entra, { timeoutMs: 20_000, ...overrides }), logger, seenTokens);
    apps.push(app);
    return url;
  }

  function remember(token: string): string {
    tokens.push(token);
    return token;
  }

  async function tokenFor(user: EmulatorUser, extra: Parameters<typeof userToken>[2] = {}): Promise<string> {
    return remember(await userToken(entra, user, extra));
  }

  /** A user with names distinctive enough that finding them in a log line cannot be a coincidence. */
  function distinctUser(tag: string): EmulatorUser {
    return entra.directory.addUser({ tenantId: entra.defaults.tenants.primary.id, username: `qz.${tag}.person`, displayName: `Quinzel ${tag} Zebulon` });
  }

  it('runs the representative flows (success, cache, refusals, outages, bad credentials, invalid tokens)', async () => {
    const { users, apps: registered } = entra.defaults;
    const url = await start();
    const outcomes: Record<string, number> = {};
    const record = async (flow: string, path: string, token?: string, baseUrl = url) => {
      outcomes[flow] = (await get(baseUrl, path, token)).status;
    };

    const member = await tokenFor(users.member);
    await record('me', '/me', member);
    await record('exchange', '/downstream', member);
    await record('cache hit', '/downstream', member);
    await record('guest', '/downstream', await tokenFor(users.guest));
    await record('app token', '/app', remember(await daemonToken(entra)));
    await record('app token cached', '/app', remember(await daemonToken(entra)));

    await record('mfa', '/downstream', await tokenFor(users.mfaUser));
    const consent = entra.policies.denyConsent({ client: registered.middleTierApi.app.clientId, resource: registered.downstreamApi.app.clientId });
    await record('consent', '/downstream', await tokenFor(distinctUser('consent')));
    entra.policies.remove(consent.id);
    const blockedUser = distinctUser('blocked');
    const block = entra.policies.blockAccess({ resource: registered.downstreamApi.app.clientId, users: [blockedUser.id] });
    await record('blocked', '/downstream', await tokenFor(blockedUser));
    entra.policies.remove(block.id);

    entra.faults.inject({ type: 'throttle', retryAfterSec: 7 }, { grantType: JWT_BEARER_GRANT });
    await record('429', '/downstream', await tokenFor(distinctUser('throttled')));
    entra.faults.inject({ type: 'throttle', retryAfterSec: 7, body: 'text' }, { grantType: JWT_BEARER_GRANT });
    await record('429 text', '/downstream', await tokenFor(distinctUser('plaintext')));
    entra.faults.inject({ type: 'server-error', status: 503 }, { grantType: JWT_BEARER_GRANT, times: 2 });
    await record('503', '/downstream', await tokenFor(distinctUser('outage')));
    entra.faults.inject({ type: 'malformed-json' }, { grantType: JWT_BEARER_GRANT, times: 2 });
    await record('malformed', '/downstream', await tokenFor(distinctUser('garbled')));
    entra.faults.inject({ type: 'reset' }, { grantType: JWT_BEARER_GRANT });
    await record('reset then success', '/downstream', await tokenFor(distinctUser('reset')));
    entra.faults.clear();

    const nowSec = entra.clock.nowSec();
    await record('garbage token', '/me', 'not-a-token');
    await record('expired token', '/downstream', await tokenFor(distinctUser('expired'), { claims: { iat: nowSec - 7200, nbf: nowSec - 7200, exp: nowSec - 3600 } }));
    await record('token for another API', '/me', await tokenFor(users.member, { resource: registered.downstreamApi.app, scopes: ['Profile.Read'] }));
    await record('id token', '/me', remember(await entra.issueIdToken({ user: users.member, client: registered.middleTierApi.app })));
    await record('bad signature', '/me', `${member.slice(0, -12)}AAAAAAAAAAAA`);
    await record('app-only on OBO', '/downstream-any-scope', remember(await daemonToken(entra)));
    await record('no token', '/me');
    await record('misnamed scope', '/misnamed-scope', await tokenFor(distinctUser('misnamed')));

    const misconfigured = await start({ credential: { clientSecret: wrongSecret } });
    await record('wrong secret', '/downstream', await tokenFor(users.member), misconfigured);
    const certificate = registered.middleTierApi.certificate;
    const withCertificate = await start({ credential: { clientCertificate: { privateKey: certificate.privateKeyPem, certificate: certificate.certificatePem } } });
    await record('certificate', '/downstream', await tokenFor(users.member), withCertificate);

    // Sanity: the flows went where they were meant to (successes succeed, refusals are refused), so the log checks
    // below examine real traffic. Exact statuses are the other suites' business.
    const successes = ['me', 'exchange', 'cache hit', 'guest', 'app token', 'app token cached', 'reset then success', 'certificate'];
    expect(outcomes['misnamed scope']).toBe(500);
    for (const [flow, status] of Object.entries(outcomes)) expect({ flow, ok: status === 200 }).toEqual({ flow, ok: successes.includes(flow) });
    expect(seenTokens.length).toBeGreaterThanOrEqual(successes.length - 1);
  });

  it('logged at every level it uses, through the captured logger', () => {
    const levels = [...new Set<CapturedLevel>(logger.lines.map((line) => line.level))];
    // Debug lines (cache misses, acquired tokens) are the likeliest to be careless: they must have been captured.
    expect(levels).toEqual(expect.arrayContaining<CapturedLevel>(['debug', 'warn', 'error']));
    expect(logger.lines.some((line) => line.level === 'debug' && /on-behalf-of|cache miss/i.test(line.text))).toBe(true);
  });

  it("logs our own rejected credential as an error carrying Entra's description, on one line", () => {
    const errors = logger.lines.filter((line) => line.level === 'error' && /client_configuration \(AADSTS7000215/.test(line.text));
    expect(errors.length).toBeGreaterThan(0);
    for (const line of errors) {
      expect(line.text).toMatch(/: AADSTS7000215: [^\r\n]+/);
      expect(line.text).not.toMatch(/[\r\n]/);
    }
  });

  it('says how to name a custom API scope when Entra refuses a bare scope name as invalid_scope', () => {
    const hint = logger.lines.filter((line) => line.level === 'error' && /AADSTS70011/.test(line.text));
    expect(hint.length).toBeGreaterThan(0);
    expect(hint[0]!.text).toContain("'api://{its app id}/Profile.Read'");
  });

  it('logs an MFA claims challenge, a normal step of sign-in, at debug and never as a warning', () => {
    const challenges = logger.lines.filter((line) => /insufficient_claims/.test(line.text));
    expect(challenges.length).toBeGreaterThan(0);
    expect(challenges.map((line) => line.level)).toEqual(challenges.map(() => 'debug'));
  });

  it('never logs a token: incoming, ID, downstream or app token, nor anything shaped like a JWT (client assertions)', () => {
    expect(tokens.length + seenTokens.length).toBeGreaterThan(20);
    const leaks = logger.lines.filter((line) => JWT_SHAPE.test(line.text) || [...tokens, ...seenTokens].some((token) => line.text.includes(token)));
    expect(leaks).toEqual([]);
  });

  it('never logs a client secret or the certificate private key', () => {
    const { apps: registered } = entra.defaults;
    const keyLines = registered.middleTierApi.certificate.privateKeyPem.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'));
    const secrets = [wrongSecret, registered.middleTierApi.clientSecret, registered.webApp.clientSecret, registered.daemon.clientSecret, ...keyLines];
    const leaks = logger.lines.filter((line) => secrets.some((secret) => line.text.includes(secret)));
    expect(leaks).toEqual([]);
  });

  it("never logs a user's display name or sign-in name", () => {
    const names = entra.directory.users.flatMap((user) => [user.displayName, user.username]);
    const leaks = logger.lines.flatMap((line) => names.filter((name) => line.text.includes(name)).map((name) => ({ name, line: line.text })));
    expect(leaks).toEqual([]);
  });
});
