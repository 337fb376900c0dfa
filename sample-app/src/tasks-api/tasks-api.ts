import { Controller, Get, Inject, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { AppToken, CurrentUser, DownstreamToken, OboAuthGuard, OboModule, RequireRoles, RequireScopes, type AcquiredToken, type EntraPrincipal } from 'nestjs-entra-obo';
import { sampleLogger } from '../nest-logger.js';
import type { EntraSettings } from '../settings.js';

const PROFILE_API_URL = 'PROFILE_API_URL';
const ENTRA = 'ENTRA';

/**
 * The middle tier: its own data per user, the profile API on the user's behalf, and the directory as itself. The class
 * is made per configuration because decorator arguments (the downstream scopes) come from it.
 */
function tasksController(entra: EntraSettings) {
  @Controller()
  @UseGuards(OboAuthGuard)
  class TasksController {
    private readonly tasksByUser = new Map<string, string[]>();

    constructor(@Inject(ConfigService) private readonly config: ConfigService) {}

    @Get('me')
    @RequireScopes('access_as_user')
    async me(@DownstreamToken({ scopes: entra.profileApi.readScope, result: true }) profileToken: AcquiredToken) {
      const response = await fetch(`${this.config.getOrThrow<string>(PROFILE_API_URL)}/profile`, { headers: { authorization: `Bearer ${profileToken.accessToken}` } });
      return { profile: await response.json(), downstreamTokenFromCache: profileToken.fromCache };
    }

    @Get('tasks')
    @RequireScopes('access_as_user')
    tasks(@CurrentUser() user: EntraPrincipal) {
      const key = `${user.tid}/${user.oid}`;
      if (!this.tasksByUser.has(key)) this.tasksByUser.set(key, [`Welcome, ${user.name ?? 'there'}`, 'Try the MFA step-up with Bob']);
      return { tasks: this.tasksByUser.get(key) };
    }

    @Get('admin/stats')
    @RequireRoles('Tasks.Read.All')
    async stats(@AppToken(entra.profileApi.defaultScope) directoryToken: string) {
      const response = await fetch(`${this.config.getOrThrow<string>(PROFILE_API_URL)}/directory/stats`, { headers: { authorization: `Bearer ${directoryToken}` } });
      return { directory: await response.json() };
    }
  }
  return TasksController;
}

export async function startTasksApi(entra: EntraSettings, port: number, profileApiUrl: string): Promise<INestApplication> {
  @Module({
    imports: [
      // The settings reach the module through ConfigService, as environment-driven configuration would in an app.
      ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ [PROFILE_API_URL]: profileApiUrl, [ENTRA]: entra })] }),
      OboModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => {
          const settings = config.getOrThrow<EntraSettings>(ENTRA);
          return {
            tenantId: settings.tenantId,
            clientId: settings.tasksApi.clientId,
            credential: { clientSecret: settings.tasksApi.clientSecret },
            authorityHost: settings.authorityHost,
            fetch: settings.fetch,
            ...(settings.clock ? { clock: settings.clock } : {}),
          };
        },
      }),
    ],
    controllers: [tasksController(entra)],
  })
  class TasksApiModule {}
  const app = await NestFactory.create(TasksApiModule, { logger: sampleLogger() });
  try {
    await app.listen(port, '127.0.0.1');
  } catch (error) {
    await app.close(); // a taken port: nothing may keep the process alive
    throw error;
  }
  return app;
}
