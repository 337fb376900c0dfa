import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CurrentUser, OboAuthGuard, OboModule, RequireRoles, RequireScopes, type EntraPrincipal } from 'nestjs-entra-obo';
import { sampleLogger } from '../nest-logger.js';
import type { EntraSettings } from '../settings.js';

/** The downstream API: it only validates tokens (no credential), and shows who called it and through whom. */
@Controller()
@UseGuards(OboAuthGuard)
class ProfileController {
  @Get('profile')
  @RequireScopes('Profile.Read')
  profile(@CurrentUser() caller: EntraPrincipal) {
    return {
      name: caller.name,
      username: caller.username,
      // The identity chain: the user's own oid and tid survive the On-Behalf-Of exchange; azp is the middle tier.
      identityChain: { oid: caller.oid, tid: caller.tid, azp: caller.clientId, scopes: caller.scopes },
    };
  }

  @Get('directory/stats')
  @RequireRoles('Directory.Read.All')
  stats(@CurrentUser() caller: EntraPrincipal) {
    return { users: 4, tenants: 2, calledBy: caller.clientId, appOnly: caller.isAppOnly };
  }
}

export async function startProfileApi(entra: EntraSettings, port: number): Promise<INestApplication> {
  @Module({
    imports: [OboModule.forRoot({ tenantId: entra.tenantId, clientId: entra.profileApi.clientId, authorityHost: entra.authorityHost, fetch: entra.fetch, ...(entra.clock ? { clock: entra.clock } : {}) })],
    controllers: [ProfileController],
  })
  class ProfileApiModule {}
  const app = await NestFactory.create(ProfileApiModule, { logger: sampleLogger() });
  try {
    await app.listen(port, '127.0.0.1');
  } catch (error) {
    await app.close(); // a taken port: nothing may keep the process alive
    throw error;
  }
  return app;
}
