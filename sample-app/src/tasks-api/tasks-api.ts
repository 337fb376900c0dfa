import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import {
  CurrentUser,
  DownstreamApi,
  DownstreamApiClient,
  DownstreamToken,
  OboAuthGuard,
  OboModule,
  RequireRoles,
  RequireScopes,
  type AcquiredToken,
  type EntraPrincipal,
} from 'nestjs-entra-obo';
import { sampleLogger } from '../nest-logger.js';
import { listenOrClose } from '../ports.js';
import type { EntraSettings } from '../settings.js';

const PROFILE_API_URL = 'PROFILE_API_URL';
const ENTRA = 'ENTRA';

/** The parts of a Graph `/me` the page shows. */
interface GraphMe {
  id: string;
  displayName: string;
  userPrincipalName: string;
}

/**
 * The middle tier: its own data per user, the profile API and Microsoft Graph on the user's behalf, and the directory
 * as itself. A plain class: the downstream APIs are named here and configured in the module options.
 */
@Controller()
@UseGuards(OboAuthGuard)
class TasksController {
  private readonly tasksByUser = new Map<string, string[]>();

  @Get('me')
  @RequireScopes('access_as_user')
  async me(
    @DownstreamToken({ scopes: 'profile', result: true }) profileToken: AcquiredToken,
    @DownstreamApi('profile') profile: DownstreamApiClient,
    @DownstreamApi('graph') graph: DownstreamApiClient,
  ) {
    // The profile call reuses the token @DownstreamToken just got (same API, same cache entry).
    const [profileBody, graphMe] = await Promise.all([profile.json('profile'), graph.json<GraphMe>('me')]);
    return {
      profile: profileBody,
      graph: { id: graphMe.id, displayName: graphMe.displayName, userPrincipalName: graphMe.userPrincipalName },
      downstreamTokenFromCache: profileToken.fromCache,
    };
  }

  /**
   * Continuous access evaluation, shown end to end: the profile API is told to distrust the token this call holds (as
   * a critical event would make it), then answers it with a claims challenge; the client makes one new exchange with
   * those claims and retries once. The answer names both tokens, so the retry is visible.
   */
  @Get('cae-demo')
  @RequireScopes('access_as_user')
  async caeDemo(@DownstreamApi('profile') profile: DownstreamApiClient) {
    const revoked = await profile.json<{ revokedUti: string }>('cae/revoke-my-token', { method: 'POST' });
    const after = await profile.json<{ uti: string; challengesIssued: number }>('cae/profile');
    return { revokedToken: revoked.revokedUti, answeredWithToken: after.uti, challengesIssued: after.challengesIssued, retried: after.uti !== revoked.revokedUti };
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
  async stats(@DownstreamApi('directory') directory: DownstreamApiClient) {
    return { directory: await directory.json('directory/stats') };
  }
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
          const profileUrl = config.getOrThrow<string>(PROFILE_API_URL);
          return {
            tenantId: settings.tenantId,
            clientId: settings.tasksApi.clientId,
            credential: { clientSecret: settings.tasksApi.clientSecret },
            authorityHost: settings.authorityHost,
            fetch: settings.fetch,
            // This API answers CAE claims challenges (the client's one re-exchange and retry), so it declares cp1.
            clientCapabilities: ['cp1'],
            downstreamApis: {
              profile: { baseUrl: profileUrl, scopes: [settings.profileApi.readScope] },
              directory: { baseUrl: profileUrl, scopes: [settings.profileApi.defaultScope], appToken: true },
              graph: { baseUrl: settings.graphBaseUrl, scopes: ['User.Read'] },
            },
            downstreamFetch: settings.downstreamFetch,
            ...(settings.clock ? { clock: settings.clock } : {}),
          };
        },
      }),
    ],
    controllers: [TasksController],
  })
  class TasksApiModule {}
  const app = await NestFactory.create(TasksApiModule, { logger: sampleLogger() });
  return listenOrClose(app, port);
}
