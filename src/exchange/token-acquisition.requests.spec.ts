import { randomUUID } from 'node:crypto';
import { TEST_SCOPE, TEST_TENANT, testPrincipal, testService } from '../../test/support/token-acquisition-fixtures.js';
import { InMemoryTokenCache } from '../cache/in-memory-token-cache.js';
import type { OboClock } from '../config/obo-module-options.js';
import type { ResolvedOboOptions } from '../config/resolve-options.js';
import type { OpenIdMetadata } from '../discovery/authority-metadata.js';
import { IdentityProviderUnavailableError } from '../errors/obo-errors.js';
import type { ExchangedToken } from '../msal/msal-token-exchanger.js';

const TENANT = TEST_TENANT;
const OTHER_TENANT = '4a3c2b1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d';
const CONSUMERS = '9188040d-6c67-4c5b-b112-36a304b66dad';
const SCOPE = TEST_SCOPE;
const APP_SCOPE = 'api://downstream/.default';
const CHALLENGE = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}';

class ManualClock implements OboClock {
  constructor(public now = 1_800_000_000_000) {}
  nowMs(): number {
    return this.now;
  }
}

/** Answers each exchange with a new token, or with the next scripted failure; records what it was asked. */
class ScriptedExchanger {
  readonly requests: { kind: 'obo' | 'app'; tenantId: string; claims?: string; correlationId?: string }[] = [];
  readonly failures: Error[] = [];

  constructor(private readonly clock: ManualClock) {}

  async onBehalfOf(request: { tenantId: string; claims?: string; correlationId?: string }): Promise<ExchangedToken> {
    this.requests.push({ kind: 'obo', tenantId: request.tenantId, ...(request.claims ? { claims: request.claims } : {}), ...(request.correlationId ? { correlationId: request.correlationId } : {}) });
    return this.answer(request);
  }

  async forApp(request: { tenantId: string; correlationId?: string }): Promise<ExchangedToken> {
    this.requests.push({ kind: 'app', tenantId: request.tenantId, ...(request.correlationId ? { correlationId: request.correlationId } : {}) });
    return this.answer(request);
  }

  /** Entra's `refresh_in`, as MSAL reports it (`refreshOn`); undefined: the answer has none. */
  refreshInMs: number | undefined;

  private answer(request: { correlationId?: string }): ExchangedToken {
    const failure = this.failures.shift();
    if (failure) throw failure;
    const refresh = this.refreshInMs === undefined ? {} : { refreshOnMs: this.clock.now + this.refreshInMs };
    return { accessToken: `downstream-${this.requests.length}`, expiresOnMs: this.clock.now + 3_600_000, scopes: [SCOPE], correlationId: request.correlationId ?? randomUUID(), ...refresh };
  }
}

const principal = (clock: ManualClock, token = 'incoming-token') => testPrincipal({ token, expiresOnMs: clock.now + 3_600_000 });

function setup(overrides: Partial<ResolvedOboOptions> = {}, issuer = `https://login.microsoftonline.com/${TENANT}/v2.0`) {
  const clock = new ManualClock();
  const exchanger = new ScriptedExchanger(clock);
  const metadata = { get: async () => ({ issuer }) as unknown as OpenIdMetadata };
  const service = testService(new InMemoryTokenCache({}, () => clock.now), exchanger, { clock, ...overrides }, metadata);
  return { clock, exchanger, service };
}

const throttled = (retryAfterSec: number) => new IdentityProviderUnavailableError('throttled', retryAfterSec, {}, { throttled: true });

describe('TokenAcquisitionService: claims challenges', () => {
  it('sends a claims exchange to Entra even on a cache hit, and its token replaces the plain entry', async () => {
    const { clock, exchanger, service } = setup();
    const user = principal(clock);
    const before = await service.acquireTokenOnBehalfOf(user, SCOPE);
    expect((await service.acquireTokenOnBehalfOf(user, SCOPE)).fromCache).toBe(true);

    const answered = await service.acquireTokenOnBehalfOf(user, SCOPE, { claims: CHALLENGE });
    expect(answered).toMatchObject({ fromCache: false });
    expect(answered.accessToken).not.toBe(before.accessToken);
    expect(exchanger.requests).toEqual([
      { kind: 'obo', tenantId: TENANT },
      { kind: 'obo', tenantId: TENANT, claims: CHALLENGE },
    ]);
    // The next plain call gets the token that satisfied the challenge, not the one from before it.
    expect(await service.acquireTokenOnBehalfOf(user, SCOPE)).toMatchObject({ accessToken: answered.accessToken, fromCache: true });
    expect(exchanger.requests).toHaveLength(2);
  });

  it('does not let a claims exchange join a plain one in flight', async () => {
    const { clock, exchanger, service } = setup();
    const user = principal(clock);
    const [plain, challenged] = await Promise.all([service.acquireTokenOnBehalfOf(user, SCOPE), service.acquireTokenOnBehalfOf(user, SCOPE, { claims: CHALLENGE })]);
    expect(plain.accessToken).not.toBe(challenged.accessToken);
    expect(exchanger.requests.filter((request) => request.claims === CHALLENGE)).toHaveLength(1);
  });
});

describe('TokenAcquisitionService: correlation ids', () => {
  const ID = '5f0c2a77-3b8e-4c52-9d3e-1a2b3c4d5e6f';

  it("sends the caller's GUID with the exchange and returns it, on the miss and on later hits", async () => {
    const { clock, exchanger, service } = setup();
    const user = principal(clock);
    expect(await service.acquireTokenOnBehalfOf(user, SCOPE, { correlationId: ID.toUpperCase() })).toMatchObject({ fromCache: false, correlationId: ID });
    expect(exchanger.requests).toEqual([{ kind: 'obo', tenantId: TENANT, correlationId: ID }]);
    // A hit answers with the id of the exchange that filled the cache, whatever the current request sent.
    expect(await service.acquireTokenOnBehalfOf(user, SCOPE, { correlationId: '11111111-2222-4333-8444-555555555555' })).toMatchObject({ fromCache: true, correlationId: ID });
  });

  it('replaces an id that is not a GUID: the exchange makes its own, and reports that one', async () => {
    const { clock, exchanger, service } = setup();
    const acquired = await service.acquireTokenOnBehalfOf(principal(clock), SCOPE, { correlationId: 'req-42' });
    expect(exchanger.requests).toEqual([{ kind: 'obo', tenantId: TENANT }]);
    expect(acquired.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('passes an app token request its id too', async () => {
    const { exchanger, service } = setup();
    expect(await service.acquireTokenForApp(APP_SCOPE, { correlationId: ID })).toMatchObject({ correlationId: ID });
    expect(exchanger.requests).toEqual([{ kind: 'app', tenantId: TENANT, correlationId: ID }]);
  });
});

describe('TokenAcquisitionService: refresh-ahead', () => {
  const MINUTE = 60_000;

  it('renews a used app token in the background after half its life (no refresh_in), serving the cached one meanwhile', async () => {
    const { clock, exchanger, service } = setup();
    const first = await service.acquireTokenForApp(APP_SCOPE);
    clock.now += 29 * MINUTE;
    expect(await service.acquireTokenForApp(APP_SCOPE)).toMatchObject({ accessToken: first.accessToken, fromCache: true });
    await service.renewalsSettled();
    expect(exchanger.requests).toHaveLength(1);

    clock.now += 2 * MINUTE; // 31 minutes of 60: due
    expect(await service.acquireTokenForApp(APP_SCOPE)).toMatchObject({ accessToken: first.accessToken, fromCache: true });
    await service.renewalsSettled();
    expect(exchanger.requests).toHaveLength(2);
    const renewed = await service.acquireTokenForApp(APP_SCOPE);
    expect(renewed).toMatchObject({ fromCache: true });
    expect(renewed.accessToken).not.toBe(first.accessToken);
    // Past the first token's own end, the caller still never waits: the renewed one is served.
    clock.now += 40 * MINUTE;
    expect(await service.acquireTokenForApp(APP_SCOPE)).toMatchObject({ accessToken: renewed.accessToken, fromCache: true });
  });

  it("renews at Entra's refresh_in when it sent one", async () => {
    const { clock, exchanger, service } = setup();
    exchanger.refreshInMs = 10 * MINUTE;
    await service.acquireTokenForApp(APP_SCOPE);
    clock.now += 9 * MINUTE;
    await service.acquireTokenForApp(APP_SCOPE);
    await service.renewalsSettled();
    expect(exchanger.requests).toHaveLength(1);
    clock.now += 2 * MINUTE;
    await service.acquireTokenForApp(APP_SCOPE);
    await service.renewalsSettled();
    expect(exchanger.requests).toHaveLength(2);
  });

  it('starts one renewal for many hits at once', async () => {
    const { clock, exchanger, service } = setup();
    await service.acquireTokenForApp(APP_SCOPE);
    clock.now += 31 * MINUTE;
    const answers = await Promise.all(Array.from({ length: 20 }, () => service.acquireTokenForApp(APP_SCOPE)));
    expect(answers.every((answer) => answer.fromCache)).toBe(true);
    await service.renewalsSettled();
    expect(exchanger.requests).toHaveLength(2);
  });

  it('keeps serving the valid token when a renewal fails, and tries again only after a pause', async () => {
    const { clock, exchanger, service } = setup();
    const first = await service.acquireTokenForApp(APP_SCOPE);
    clock.now += 31 * MINUTE;
    exchanger.failures.push(new IdentityProviderUnavailableError('down', 20));
    expect(await service.acquireTokenForApp(APP_SCOPE)).toMatchObject({ accessToken: first.accessToken, fromCache: true });
    await service.renewalsSettled();
    expect(await service.acquireTokenForApp(APP_SCOPE)).toMatchObject({ accessToken: first.accessToken, fromCache: true });
    await service.renewalsSettled();
    expect(exchanger.requests).toHaveLength(2);

    clock.now += 21_000;
    await service.acquireTokenForApp(APP_SCOPE);
    await service.renewalsSettled();
    expect(exchanger.requests).toHaveLength(3);
    expect((await service.acquireTokenForApp(APP_SCOPE)).accessToken).not.toBe(first.accessToken);
  });

  it('never renews an On-Behalf-Of token ahead: it must not outlive the caller, who brings a new token anyway', async () => {
    const { clock, exchanger, service } = setup();
    const user = principal(clock);
    await service.acquireTokenOnBehalfOf(user, SCOPE);
    clock.now += 40 * MINUTE;
    expect(await service.acquireTokenOnBehalfOf(user, SCOPE)).toMatchObject({ fromCache: true });
    await service.renewalsSettled();
    expect(exchanger.requests).toHaveLength(1);
  });
});

describe('TokenAcquisitionService: throttling', () => {
  it('answers a throttled request locally until its Retry-After has passed, then asks Entra again', async () => {
    const { clock, exchanger, service } = setup();
    const user = principal(clock);
    exchanger.failures.push(throttled(30));
    await expect(service.acquireTokenOnBehalfOf(user, SCOPE)).rejects.toMatchObject({ code: 'identity_provider_unavailable', retryAfterSec: 30 });

    clock.now += 10_000;
    for (let repeat = 0; repeat < 5; repeat += 1) {
      await expect(service.acquireTokenOnBehalfOf(user, SCOPE)).rejects.toMatchObject({ code: 'identity_provider_unavailable', retryAfterSec: 20, throttled: true });
    }
    expect(exchanger.requests).toHaveLength(1);

    clock.now += 20_000;
    expect(await service.acquireTokenOnBehalfOf(user, SCOPE)).toMatchObject({ fromCache: false });
    expect(exchanger.requests).toHaveLength(2);
  });

  it('leaves other callers, other scopes and app tokens unaffected', async () => {
    const { clock, exchanger, service } = setup();
    exchanger.failures.push(throttled(60));
    await expect(service.acquireTokenOnBehalfOf(principal(clock), SCOPE)).rejects.toThrow(IdentityProviderUnavailableError);
    await expect(service.acquireTokenOnBehalfOf(principal(clock, 'another-users-token'), SCOPE)).resolves.toMatchObject({ fromCache: false });
    await expect(service.acquireTokenOnBehalfOf(principal(clock), 'api://other/Read')).resolves.toMatchObject({ fromCache: false });
    await expect(service.acquireTokenForApp(APP_SCOPE)).resolves.toMatchObject({ fromCache: false });
    expect(exchanger.requests).toHaveLength(4);
  });

  it('remembers a throttled app token too, and never remembers an outage', async () => {
    const { exchanger, service } = setup();
    exchanger.failures.push(new IdentityProviderUnavailableError('down', 5), throttled(120));
    await expect(service.acquireTokenForApp(APP_SCOPE)).rejects.toMatchObject({ throttled: false });
    await expect(service.acquireTokenForApp(APP_SCOPE)).rejects.toMatchObject({ throttled: true, retryAfterSec: 120 });
    await expect(service.acquireTokenForApp(APP_SCOPE)).rejects.toMatchObject({ throttled: true, retryAfterSec: 120 });
    expect(exchanger.requests).toHaveLength(2);
  });
});

describe('TokenAcquisitionService: the tenant of an app token', () => {
  it('a single-tenant API accepts its own tenant only, by id, by its domain when configured by domain, or by default', async () => {
    const { exchanger, service } = setup();
    await service.acquireTokenForApp(APP_SCOPE);
    await service.acquireTokenForApp(APP_SCOPE, { tenantId: TENANT.toUpperCase() });
    for (const tenantId of [OTHER_TENANT, `x/../${TENANT}`, `${TENANT}?x=1`, 'organizations', '']) {
      await expect(service.acquireTokenForApp(APP_SCOPE, { tenantId })).rejects.toThrow(TypeError);
    }
    expect(exchanger.requests.map((request) => request.tenantId)).toEqual([TENANT]);

    const byDomain = setup({ tenantId: 'contoso.onmicrosoft.com', allowedTenants: new Set() });
    await byDomain.service.acquireTokenForApp(APP_SCOPE, { tenantId: TENANT });
    await byDomain.service.acquireTokenForApp(APP_SCOPE, { tenantId: 'Contoso.onmicrosoft.com' });
    await expect(byDomain.service.acquireTokenForApp(APP_SCOPE, { tenantId: OTHER_TENANT })).rejects.toThrow(/this API's tenant/);
    expect(byDomain.exchanger.requests.map((request) => request.tenantId)).toEqual(['contoso.onmicrosoft.com']);
  });

  it('a multi-tenant API needs an allowed tenant id', async () => {
    const listed = setup({ tenantId: 'organizations', isMultiTenant: true, allowedTenants: new Set([TENANT]) });
    await expect(listed.service.acquireTokenForApp(APP_SCOPE)).rejects.toThrow(/which tenant/);
    await expect(listed.service.acquireTokenForApp(APP_SCOPE, { tenantId: OTHER_TENANT })).rejects.toThrow(/allowedTenants/);
    await expect(listed.service.acquireTokenForApp(APP_SCOPE, { tenantId: 'contoso.onmicrosoft.com' })).rejects.toThrow(/GUID/);
    await listed.service.acquireTokenForApp(APP_SCOPE, { tenantId: TENANT });
    expect(listed.exchanger.requests.map((request) => request.tenantId)).toEqual([TENANT]);

    const any = setup({ tenantId: 'organizations', isMultiTenant: true, allowedTenants: 'any' });
    await any.service.acquireTokenForApp(APP_SCOPE, { tenantId: OTHER_TENANT });
    await expect(any.service.acquireTokenForApp(APP_SCOPE, { tenantId: CONSUMERS })).rejects.toThrow(TypeError);
    await expect(any.service.acquireTokenForApp(APP_SCOPE, { tenantId: `${OTHER_TENANT}/../x` })).rejects.toThrow(TypeError);
    expect(any.exchanger.requests.map((request) => request.tenantId)).toEqual([OTHER_TENANT]);
  });
});

describe('TokenAcquisitionService: scope lists', () => {
  it('refuses lists Entra would refuse, before any request', async () => {
    const { clock, exchanger, service } = setup();
    const user = principal(clock);
    await expect(service.acquireTokenOnBehalfOf(user, ['api://a/Read', 'api://b/Read'])).rejects.toThrow(/one resource/);
    await expect(service.acquireTokenOnBehalfOf(user, [SCOPE, 'offline_access'])).rejects.toThrow(/OpenID Connect/);
    await expect(service.acquireTokenOnBehalfOf(user, ['api://a/.default', 'api://a/Read'])).rejects.toThrow(/\.default/);
    await expect(service.acquireTokenOnBehalfOf(user, '  ')).rejects.toThrow(/at least one scope/);
    await expect(service.acquireTokenForApp(['api://a/.default', 'api://b/.default'])).rejects.toThrow(TypeError);
    await expect(service.acquireTokenForApp('api://a/Read')).rejects.toThrow(/\.default/);
    expect(exchanger.requests).toHaveLength(0);
  });
});
