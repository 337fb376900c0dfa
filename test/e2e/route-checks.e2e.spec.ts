import { Controller, Get, Injectable, Module, UseGuards, type INestApplication, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import {
  AppToken,
  CurrentUser,
  DownstreamToken,
  OboAuthGuard,
  OboConfigurationError,
  OboModule,
  Public,
  RequireRoles,
  RequireScopes,
  type EntraPrincipal,
  type OboModuleOptions,
} from '../../src/index.js';
import { useEmulator } from '../support/emulator.js';
import { daemonToken, get, userToken } from './support/http-calls.js';
import { ADAPTERS, DOWNSTREAM_DEFAULT, DOWNSTREAM_READ, middleTierOptions, type AdapterName } from './support/test-app.js';
import { startNestApp } from './support/nest-app.js';

/** Starts `controllers` under OboModule; rejects when bootstrap refuses them. The app is closed by the caller. */
async function start(adapter: AdapterName, options: OboModuleOptions, controllers: Type[], extras: { globalGuard?: boolean; providers?: readonly unknown[]; useGlobalGuard?: boolean } = {}) {
  @Module({ imports: [OboModule.forRoot({ ...options, globalGuard: extras.globalGuard ?? false })], controllers, providers: [...(extras.providers ?? [])] as never[] })
  class RouteCheckModule {}
  return startNestApp(RouteCheckModule, adapter, false, (app) => {
    if (extras.useGlobalGuard) app.useGlobalGuards(app.get(OboAuthGuard));
  });
}

/** What bootstrap refused, as its list of problems (or a note that it started). */
async function refusal(started: Promise<{ app: INestApplication }>): Promise<readonly string[]> {
  try {
    const { app } = await started;
    await app.close();
    return ['started'];
  } catch (error) {
    if (error instanceof OboConfigurationError) return error.problems;
    throw error;
  }
}

@Controller('forgotten')
class ForgottenGuardController {
  @Get('scoped')
  @RequireScopes('access_as_user')
  scoped() {
    return { ok: true };
  }

  @Get('role')
  @RequireRoles('Tasks.Read.All')
  role() {
    return { ok: true };
  }

  @Get('downstream')
  downstream(@DownstreamToken(DOWNSTREAM_READ) token: string) {
    return { length: token.length };
  }

  @Get('me')
  me(@CurrentUser() user: EntraPrincipal) {
    return { oid: user.oid };
  }

  @Get('plain')
  plain() {
    return { ok: true };
  }

  @Get('app')
  app(@AppToken(DOWNSTREAM_DEFAULT) token: string) {
    return { length: token.length };
  }
}

@Controller('mistakes')
@UseGuards(OboAuthGuard)
class MistakenRoutesController {
  @Get('public-downstream')
  @Public()
  publicDownstream(@DownstreamToken(DOWNSTREAM_READ) token: string) {
    return { length: token.length };
  }

  @Get('contradiction')
  @Public()
  @RequireScopes('access_as_user')
  contradiction() {
    return { ok: true };
  }

  @Get('two-resources')
  twoResources(@DownstreamToken(['api://a/Read', 'api://b/Read']) token: string) {
    return { length: token.length };
  }

  @Get('oidc')
  oidc(@DownstreamToken([DOWNSTREAM_READ, 'offline_access']) token: string) {
    return { length: token.length };
  }

  @Get('mixed-default')
  mixedDefault(@DownstreamToken([DOWNSTREAM_DEFAULT, DOWNSTREAM_READ]) token: string) {
    return { length: token.length };
  }

  @Get('graph')
  graph(@DownstreamToken('User.Read') token: string) {
    return { length: token.length };
  }
}

/** A whole controller opened with @Public(), with one handler that still demands a role. */
@Controller('open')
@Public()
class PublicControllerWithDemandingHandler {
  @Get('anyone')
  anyone() {
    return { ok: true };
  }

  @Get('admins')
  @RequireRoles('Tasks.Read.All')
  admins() {
    return { ok: true };
  }
}

@Injectable()
class CustomGuard extends OboAuthGuard {}

@Controller('subclassed')
@UseGuards(CustomGuard)
class SubclassGuardedController {
  @Get('me')
  @RequireScopes('access_as_user')
  me(@CurrentUser() user: EntraPrincipal) {
    return { oid: user.oid };
  }
}

describe.each(ADAPTERS)('bootstrap route checks on %s', (adapter) => {
  const entra = useEmulator();

  it('refuses every route whose decorators need a validated caller but that no OboAuthGuard protects, naming each, in one error', async () => {
    const problems = await refusal(start(adapter, middleTierOptions(entra), [ForgottenGuardController]));
    expect(problems).toEqual([
      expect.stringMatching(/^GET \/forgotten\/scoped \(ForgottenGuardController\.scoped\): uses @RequireScopes but no OboAuthGuard protects it/),
      expect.stringMatching(/^GET \/forgotten\/role \(ForgottenGuardController\.role\): uses @RequireRoles but no OboAuthGuard/),
      expect.stringMatching(/^GET \/forgotten\/downstream \(ForgottenGuardController\.downstream\): uses @DownstreamToken but no OboAuthGuard/),
      expect.stringMatching(/^GET \/forgotten\/me \(ForgottenGuardController\.me\): uses @CurrentUser but no OboAuthGuard/),
    ]);
    expect(problems.join('\n')).toContain('globalGuard: true');
  });

  it('lists contradictions and scope lists Entra would refuse, but lets a bare Graph scope through', async () => {
    const problems = await refusal(start(adapter, middleTierOptions(entra), [MistakenRoutesController]));
    expect(problems).toEqual([
      expect.stringMatching(/^GET \/mistakes\/public-downstream \(MistakenRoutesController\.publicDownstream\): a @Public\(\) route cannot use @DownstreamToken/),
      expect.stringMatching(/^GET \/mistakes\/contradiction .*: @Public\(\) and @RequireScopes \/ @RequireRoles on the same handler or controller contradict/),
      expect.stringMatching(/^GET \/mistakes\/two-resources .*: @DownstreamToken: scopes of api:\/\/a and api:\/\/b: one token is for one resource/),
      expect.stringMatching(/^GET \/mistakes\/oidc .*: @DownstreamToken: offline_access: OpenID Connect scopes are added by MSAL itself/),
      expect.stringMatching(/^GET \/mistakes\/mixed-default .*: @DownstreamToken: '\.default' cannot be combined with named scopes/),
    ]);
  });

  it.each([
    ['globalGuard: true', { globalGuard: true }],
    ['an APP_GUARD of the application', { providers: [{ provide: APP_GUARD, useClass: OboAuthGuard }] }],
    ['app.useGlobalGuards', { useGlobalGuard: true }],
  ] as const)('counts routes as guarded under %s, and they then answer 401 without a token', async (_label, extras) => {
    const { app, url } = await start(adapter, middleTierOptions(entra), [ForgottenGuardController], extras);
    try {
      for (const path of ['/forgotten/scoped', '/forgotten/role', '/forgotten/me']) expect((await get(url, path)).status).toBe(401);
      expect((await get(url, '/forgotten/me', await userToken(entra, entra.defaults.users.member))).json).toEqual({ oid: entra.defaults.users.member.id });
    } finally {
      await app.close();
    }
  });

  it('counts a subclass of OboAuthGuard as a guard', async () => {
    const { app, url } = await start(adapter, middleTierOptions(entra), [SubclassGuardedController], { providers: [CustomGuard] });
    try {
      expect((await get(url, '/subclassed/me')).status).toBe(401);
      expect((await get(url, '/subclassed/me', await userToken(entra, entra.defaults.users.member))).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it("lets a handler's own requirement win over its controller's @Public()", async () => {
    const { app, url } = await start(adapter, middleTierOptions(entra), [PublicControllerWithDemandingHandler], { globalGuard: true });
    try {
      expect((await get(url, '/open/anyone')).status).toBe(200);
      const anonymous = await get(url, '/open/admins');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
      expect((await get(url, '/open/admins', await userToken(entra, entra.defaults.users.member))).status).toBe(403);
      expect((await get(url, '/open/admins', await daemonToken(entra))).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
