import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { decodeJwt } from 'jose';
import {
  AppToken,
  CurrentUser,
  DownstreamToken,
  OboAuthGuard,
  OboModule,
  Public,
  RequireRoles,
  RequireScopes,
  type AcquiredToken,
  type EntraPrincipal,
  type OboModuleOptions,
} from '../../../src/index.js';
import type { EntraEmulator } from '../../../src/testing/index.js';

import { startNestApp, type AdapterName } from './nest-app.js';

export { ADAPTERS, type AdapterName } from './nest-app.js';

/** The downstream scope the test API calls, taken from the emulator's default directory at module load. */
export const DOWNSTREAM_READ = 'api://4be5f7f9-113b-4b0c-ad05-8a388f71bb11/Profile.Read';
export const DOWNSTREAM_DEFAULT = 'api://4be5f7f9-113b-4b0c-ad05-8a388f71bb11/.default';

@Controller()
class TestApiController {
  @Get('public')
  @Public()
  publicRoute() {
    return { ok: true };
  }

  @Get('me')
  @UseGuards(OboAuthGuard)
  @RequireScopes('access_as_user')
  me(@CurrentUser() user: EntraPrincipal) {
    return { oid: user.oid, tid: user.tid, name: user.name, username: user.username, scopes: user.scopes, roles: user.roles, isGuest: user.isGuest, isAppOnly: user.isAppOnly };
  }

  @Get('either')
  @UseGuards(OboAuthGuard)
  @RequireScopes('access_as_user')
  @RequireRoles('Tasks.Read.All')
  either(@CurrentUser() user: EntraPrincipal) {
    return { oid: user.oid, isAppOnly: user.isAppOnly };
  }

  @Get('downstream')
  @UseGuards(OboAuthGuard)
  @RequireScopes('access_as_user')
  downstream(@DownstreamToken({ scopes: DOWNSTREAM_READ, result: true }) token: AcquiredToken) {
    const claims = decodeJwt(token.accessToken);
    return { fromCache: token.fromCache, aud: claims.aud, oid: claims.oid, tid: claims.tid, azp: claims.azp, scp: claims.scp };
  }

  @Get('downstream-any-scope')
  @UseGuards(OboAuthGuard)
  downstreamAnyScope(@DownstreamToken(DOWNSTREAM_READ) token: string) {
    return { oid: decodeJwt(token).oid };
  }

  @Get('app')
  @UseGuards(OboAuthGuard)
  @RequireRoles('Tasks.Read.All')
  app(@AppToken({ scopes: DOWNSTREAM_DEFAULT, result: true }) token: AcquiredToken) {
    const claims = decodeJwt(token.accessToken);
    return { fromCache: token.fromCache, roles: claims.roles, idtyp: claims.idtyp };
  }
}

/** Options for the default directory's middle-tier API, pointed at `entra`. */
export function middleTierOptions(entra: EntraEmulator, overrides: Partial<OboModuleOptions> = {}): OboModuleOptions {
  const middleTier = entra.defaults.apps.middleTierApi;
  return {
    tenantId: entra.defaults.tenants.primary.id,
    clientId: middleTier.app.clientId,
    credential: { clientSecret: middleTier.clientSecret },
    authorityHost: entra.authorityHost,
    fetch: entra.fetch,
    clock: entra.clock,
    retries: 1,
    timeoutMs: 2000,
    ...overrides,
  };
}

/** A Nest app with the test controller on the given adapter, listening on loopback; returns it and its base URL. */
export async function startTestApp(adapter: AdapterName, options: OboModuleOptions, extras: { globalGuard?: boolean } = {}): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [OboModule.forRoot({ ...options, ...extras })], controllers: [TestApiController] })
  class TestAppModule {}
  return startNestApp(TestAppModule, adapter);
}
