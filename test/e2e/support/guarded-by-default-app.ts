import { Controller, Get, Module, Req, type INestApplication } from '@nestjs/common';
import { OboModule, Public, RequireScopes, type EntraPrincipal, type OboModuleOptions } from '../../../src/index.js';
import { startNestApp, type AdapterName } from './nest-app.js';

/**
 * Routes with no `@UseGuards` at all: whether they are protected depends only on the module's `globalGuard` extra
 * (without it, the bootstrap route check refuses `/plain-scoped`, which demands a scope).
 */
@Controller()
class UndecoratedController {
  @Get('plain')
  plain(@Req() request: { user?: EntraPrincipal }) {
    return { caller: request.user?.oid ?? null };
  }

  @Get('plain-scoped')
  @RequireScopes('access_as_user')
  plainScoped(@Req() request: { user?: EntraPrincipal }) {
    return { caller: request.user?.oid ?? null };
  }

  @Get('open')
  @Public()
  open() {
    return { ok: true };
  }
}

export async function startGuardedByDefaultApp(adapter: AdapterName, options: OboModuleOptions, globalGuard: boolean): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [OboModule.forRoot({ ...options, globalGuard })], controllers: [UndecoratedController] })
  class GuardedByDefaultModule {}
  return startNestApp(GuardedByDefaultModule, adapter);
}
