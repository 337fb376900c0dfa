import { Controller, Get, Injectable, Module, UseGuards, type INestApplication, type Type } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { DownstreamToken, OboConfigurationError, OboModule, RequireRoles, RequireScopes, type OboModuleOptions } from '../../src/index.js';
import { BearerStrategy, EntraAuthGuard, EntraBearerStrategy, type BearerStrategyOptions } from '../../src/passport/index.js';
import { startEntraEmulator, type EntraEmulator } from '../../src/testing/index.js';
import { challengeParams, daemonToken, get, userToken } from './support/http-calls.js';
import { ADAPTERS, DOWNSTREAM_READ, middleTierOptions, type AdapterName } from './support/test-app.js';
import { startNestApp } from './support/nest-app.js';

function strategyOptions(entra: EntraEmulator, extra: Partial<BearerStrategyOptions> = {}): BearerStrategyOptions {
  const { tenants, apps } = entra.defaults;
  return {
    identityMetadata: `${entra.authorityHost}/${tenants.primary.id}/v2.0/.well-known/openid-configuration`,
    clientID: apps.middleTierApi.app.clientId,
    fetch: entra.fetch,
    clock: entra.clock,
    ...extra,
  };
}

/** An app with the passport strategies and OboModule (whose filter turns the guard's errors into RFC 6750 answers). */
async function startApp(adapter: AdapterName, entra: EntraEmulator, controllers: Type[], strategyExtra: Partial<BearerStrategyOptions> = {}, moduleExtra: Partial<OboModuleOptions> = {}) {
  @Injectable()
  class EntraStrategy extends EntraBearerStrategy {
    constructor() {
      super(strategyOptions(entra, strategyExtra));
    }
  }
  @Injectable()
  class MigratedStrategy extends PassportStrategy(BearerStrategy, 'oauth-bearer') {
    constructor() {
      super(strategyOptions(entra, { scope: ['access_as_user'], ...strategyExtra }));
    }
    validate(claims: Record<string, unknown>) {
      return { oid: claims.oid };
    }
  }
  @Module({ imports: [OboModule.forRoot(middleTierOptions(entra, moduleExtra))], controllers, providers: [EntraStrategy, MigratedStrategy] })
  class PassportGuardModule {}
  return startNestApp(PassportGuardModule, adapter, false);
}

@Controller()
class GuardedByPassportController {
  @Get('migrated')
  @UseGuards(EntraAuthGuard('oauth-bearer'))
  migrated() {
    return { ok: true };
  }

  @Get('scoped')
  @UseGuards(EntraAuthGuard())
  @RequireScopes('access_as_user')
  scoped() {
    return { ok: true };
  }

  @Get('role')
  @UseGuards(EntraAuthGuard())
  @RequireRoles('Tasks.Read.All')
  role() {
    return { ok: true };
  }

  @Get('downstream')
  @UseGuards(EntraAuthGuard())
  @RequireScopes('access_as_user')
  downstream(@DownstreamToken(DOWNSTREAM_READ) token: string) {
    return { length: token.length };
  }

  @Get('any')
  @UseGuards(EntraAuthGuard())
  any() {
    return { ok: true };
  }
}

@Controller()
class PlainAuthGuardController {
  @Get('scoped')
  @UseGuards(AuthGuard('entra-bearer'))
  @RequireScopes('access_as_user')
  scoped() {
    return { ok: true };
  }
}

describe.each(ADAPTERS)('EntraAuthGuard (passport) on %s', (adapter) => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    entra = await startEntraEmulator();
    ({ app, url } = await startApp(adapter, entra, [GuardedByPassportController]));
  });
  afterEach(() => {
    entra.faults.clear();
  });
  afterAll(async () => {
    await app?.close();
    await entra?.close();
  });

  const member = () => userToken(entra, entra.defaults.users.member);

  it('answers a missing token with 401 and a bare Bearer challenge, like OboAuthGuard', async () => {
    const answer = await get(url, '/scoped');
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('answers a bad token with 401 invalid_token and its reason', async () => {
    const answer = await get(url, '/scoped', 'not-a-jwt');
    expect(answer.status).toBe(401);
    expect(challengeParams(answer.headers.get('www-authenticate'))).toMatchObject({ error: 'invalid_token' });
  });

  it("answers a missing scope of the strategy's `scope` option with 403 insufficient_scope naming it", async () => {
    const token = await entra.issueAccessToken({ user: entra.defaults.users.member, client: entra.defaults.apps.webApp.app, resource: entra.defaults.apps.middleTierApi.app, claims: { scp: 'something_else' } });
    const answer = await get(url, '/migrated', token);
    expect(answer.status).toBe(403);
    expect(challengeParams(answer.headers.get('www-authenticate'))).toMatchObject({ error: 'insufficient_scope', scope: 'access_as_user' });
    expect((await get(url, '/migrated', await member())).status).toBe(200);
  });

  it("enforces the route's @RequireScopes and @RequireRoles", async () => {
    expect((await get(url, '/scoped', await member())).status).toBe(200);
    const daemonOnScoped = await get(url, '/scoped', await daemonToken(entra));
    expect(daemonOnScoped.status).toBe(403);
    expect(challengeParams(daemonOnScoped.headers.get('www-authenticate'))).toMatchObject({ error: 'insufficient_scope', scope: 'access_as_user' });
    expect((await get(url, '/role', await daemonToken(entra))).status).toBe(200);
    expect((await get(url, '/role', await member())).status).toBe(403);
  });

  it("serves @DownstreamToken behind it, validating the caller again under the module's own settings", async () => {
    const answer = await get(url, '/downstream', await member());
    expect(answer.status).toBe(200);
    expect(Number(answer.json?.length)).toBeGreaterThan(100);
  });

  it("does not trust the strategy's principal for @DownstreamToken: the module's own settings (here, no guests) apply", async () => {
    const { app: strict, url: strictUrl } = await startApp(adapter, entra, [GuardedByPassportController], {}, { allowGuests: false });
    try {
      const guest = await userToken(entra, entra.defaults.users.guest);
      // The strategy accepts guests (its default); the module does not, so the exchange is refused before Entra is asked.
      expect((await get(strictUrl, '/any', guest)).status).toBe(200);
      const before = entra.tokenRequests().length;
      const answer = await get(strictUrl, '/downstream', guest);
      expect(answer.status).toBe(401);
      expect(challengeParams(answer.headers.get('www-authenticate'))).toMatchObject({ error: 'invalid_token' });
      expect(entra.tokenRequests().length).toBe(before);
    } finally {
      await strict.close();
    }
  });

  it('lets bootstrap refuse @RequireScopes behind a plain AuthGuard, which would not enforce it', async () => {
    await expect(startApp(adapter, entra, [PlainAuthGuardController])).rejects.toThrow(OboConfigurationError);
    await expect(startApp(adapter, entra, [PlainAuthGuardController])).rejects.toThrow(/GET \/scoped \(PlainAuthGuardController\.scoped\): uses @RequireScopes but no OboAuthGuard/);
  });
});

// Its own app and emulator: passport keeps strategies in one process-wide registry, so the strategies of an app started
// inside another suite would replace that suite's.
describe.each(ADAPTERS)('EntraAuthGuard when Entra cannot be reached, on %s', (adapter) => {
  it('answers 503 with Retry-After when the signing keys cannot be fetched, not a bare 401', async () => {
    const entra = await startEntraEmulator();
    const { app, url } = await startApp(adapter, entra, [GuardedByPassportController]);
    try {
      entra.faults.inject({ type: 'server-error', status: 503 }, { endpoint: 'jwks', times: 20 });
      const answer = await get(url, '/any', await userToken(entra, entra.defaults.users.member));
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await app.close();
      await entra.close();
    }
  });
});

describe.each(ADAPTERS)('passport-azure-ad options the strategy enforces, on %s', (adapter) => {
  let entra: EntraEmulator;

  beforeAll(async () => {
    entra = await startEntraEmulator();
  });
  afterAll(async () => {
    await entra?.close();
  });

  async function statusOf(strategyExtra: Partial<BearerStrategyOptions>, token: string): Promise<number> {
    const { app, url } = await startApp(adapter, entra, [GuardedByPassportController], strategyExtra);
    try {
      return (await get(url, '/any', token)).status;
    } finally {
      await app.close();
    }
  }

  const tokenWith = (claims: Record<string, unknown>) =>
    entra.issueAccessToken({ user: entra.defaults.users.member, client: entra.defaults.apps.webApp.app, resource: entra.defaults.apps.middleTierApi.app, scopes: ['access_as_user'], claims });

  it('refuses a token with several audiences unless allowMultiAudiencesInToken is true, and then requires azp to be this client', async () => {
    const clientId = entra.defaults.apps.middleTierApi.app.clientId;
    const multi = await tokenWith({ aud: [clientId, 'https://other.example'], azp: clientId });
    expect(await statusOf({}, multi)).toBe(401);
    expect(await statusOf({ allowMultiAudiencesInToken: true }, multi)).toBe(200);
    const otherParty = await tokenWith({ aud: [clientId, 'https://other.example'] });
    expect(await statusOf({ allowMultiAudiencesInToken: true }, otherParty)).toBe(401);
    expect(await statusOf({}, await tokenWith({}))).toBe(200);
  });

  it('compares `issuer` exactly with the token issuer', async () => {
    const tenant = entra.defaults.tenants.primary.id;
    const v2 = `${entra.authorityHost}/${tenant}/v2.0`;
    const token = await tokenWith({});
    expect(await statusOf({ issuer: v2 }, token)).toBe(200);
    expect(await statusOf({ issuer: `https://sts.windows.net/${tenant}/` }, token)).toBe(401);
  });
});

describe('BearerStrategy options refused at construction', () => {
  const base = { identityMetadata: 'https://login.microsoftonline.com/08ca7782-ab9b-4297-96fe-a80d943ee9f4/v2.0/.well-known/openid-configuration', clientID: '1f75d70b-655c-41a6-a281-4cee5f0ff250' };

  it('refuses an issuer of another tenant than a tenant-specific identityMetadata, which would refuse every token', () => {
    expect(() => new BearerStrategy({ ...base, issuer: 'https://login.microsoftonline.com/4a3c2b1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d/v2.0' })).toThrow(/is not an issuer of tenant 08ca7782/);
    expect(() => new BearerStrategy({ ...base, issuer: 'https://login.microsoftonline.com/08ca7782-ab9b-4297-96fe-a80d943ee9f4/v2.0' })).not.toThrow();
  });

  it('refuses a non-boolean allowMultiAudiencesInToken and an issuer that is not a URL', () => {
    expect(() => new BearerStrategy({ ...base, allowMultiAudiencesInToken: 'yes' as unknown as boolean })).toThrow(/allowMultiAudiencesInToken must be a boolean/);
    expect(() => new BearerStrategy({ ...base, issuer: 'not a url' })).toThrow(/issuer must be an https: issuer URL/);
  });
});
