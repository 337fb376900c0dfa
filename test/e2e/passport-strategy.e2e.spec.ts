import { Controller, Get, Injectable, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { PassportStrategy } from '@nestjs/passport';
import { BearerStrategy, EntraBearerStrategy, type BearerStrategyOptions } from '../../src/passport/index.js';
import { startEntraEmulator, type EntraEmulator } from '../../src/testing/index.js';
import { ADAPTERS, type AdapterName } from './support/test-app.js';
import { startNestApp } from './support/nest-app.js';

/** The options a passport-azure-ad user already has, plus the emulator's fetch (the only addition). */
function passportAzureAdOptions(entra: EntraEmulator): BearerStrategyOptions {
  const { tenants, apps } = entra.defaults;
  return {
    identityMetadata: `${entra.authorityHost}/${tenants.primary.id}/v2.0/.well-known/openid-configuration`,
    clientID: apps.middleTierApi.app.clientId,
    audience: apps.middleTierApi.app.clientId,
    validateIssuer: true,
    scope: ['access_as_user'],
    clockSkew: 300,
    passReqToCallback: false,
    loggingNoPII: true,
    loggingLevel: 'warn',
    fetch: entra.fetch,
  };
}

async function startPassportApp(adapter: AdapterName, entra: EntraEmulator): Promise<{ app: INestApplication; url: string }> {
  // What a passport-azure-ad user has today, with only the import changed.
  @Injectable()
  class AzureAdStrategy extends PassportStrategy(BearerStrategy, 'oauth-bearer') {
    constructor() {
      super(passportAzureAdOptions(entra));
    }
    validate(token: Record<string, unknown>) {
      return { oid: token.oid, name: token.name };
    }
  }

  @Injectable()
  class EntraStrategy extends EntraBearerStrategy {
    constructor() {
      super({ ...passportAzureAdOptions(entra), scope: undefined });
    }
  }

  @Controller()
  class ProfileController {
    @Get('migrated')
    @UseGuards(AuthGuard('oauth-bearer'))
    migrated() {
      return { ok: true };
    }

    @Get('entra')
    @UseGuards(AuthGuard('entra-bearer'))
    entraRoute() {
      return { ok: true };
    }
  }

  @Module({ controllers: [ProfileController], providers: [AzureAdStrategy, EntraStrategy] })
  class PassportAppModule {}

  return startNestApp(PassportAppModule, adapter, false);
}

describe.each(ADAPTERS)('passport strategies on %s', (adapter) => {
  let entra: EntraEmulator;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    entra = await startEntraEmulator();
    ({ app, url } = await startPassportApp(adapter, entra));
  });
  afterAll(async () => {
    await app?.close();
    await entra?.close();
  });

  const tokenFor = (scopes: string[]) =>
    entra.issueAccessToken({ user: entra.defaults.users.member, client: entra.defaults.apps.webApp.app, resource: entra.defaults.apps.middleTierApi.app, scopes });

  it('accepts a valid token through the passport-azure-ad drop-in (oauth-bearer)', async () => {
    const response = await fetch(`${url}/migrated`, { headers: { authorization: `Bearer ${await tokenFor(['access_as_user'])}` } });
    expect(response.status).toBe(200);
  });

  it('rejects a token without a required scope, and requests without a token', async () => {
    const withoutScope = await entra.issueAccessToken({
      user: entra.defaults.users.member,
      client: entra.defaults.apps.webApp.app,
      resource: entra.defaults.apps.middleTierApi.app,
      claims: { scp: 'something_else' },
    });
    expect((await fetch(`${url}/migrated`, { headers: { authorization: `Bearer ${withoutScope}` } })).status).toBe(401);
    expect((await fetch(`${url}/migrated`)).status).toBe(401);
  });

  it('rejects an ID token and a token for another audience', async () => {
    const idToken = await entra.issueIdToken({ user: entra.defaults.users.member, client: entra.defaults.apps.middleTierApi.app });
    expect((await fetch(`${url}/entra`, { headers: { authorization: `Bearer ${idToken}` } })).status).toBe(401);
    const otherAudience = await entra.issueAccessToken({ user: entra.defaults.users.member, client: entra.defaults.apps.webApp.app, resource: entra.defaults.apps.downstreamApi.app });
    expect((await fetch(`${url}/entra`, { headers: { authorization: `Bearer ${otherAudience}` } })).status).toBe(401);
  });

  it('serves AuthGuard("entra-bearer")', async () => {
    const response = await fetch(`${url}/entra`, { headers: { authorization: `Bearer ${await tokenFor(['access_as_user'])}` } });
    expect(response.status).toBe(200);
  });
});

describe('BearerStrategy options', () => {
  it('reports every invalid passport-azure-ad option at once', () => {
    expect(() => new BearerStrategy({ identityMetadata: 'http://example/x', clientID: 'nope', isB2C: true } as BearerStrategyOptions)).toThrow(
      /identityMetadata must be an https: URL[\s\S]*clientID must be[\s\S]*isB2C/,
    );
  });

  it('needs issuer or validateIssuer: false for a common endpoint', () => {
    const base = { identityMetadata: 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration', clientID: '1f75d70b-655c-41a6-a281-4cee5f0ff250' };
    expect(() => new BearerStrategy(base)).toThrow(/give issuer/);
    expect(() => new BearerStrategy({ ...base, validateIssuer: false })).not.toThrow();
    expect(() => new BearerStrategy({ ...base, issuer: ['https://login.microsoftonline.com/08ca7782-ab9b-4297-96fe-a80d943ee9f4/v2.0'] })).not.toThrow();
  });
});
