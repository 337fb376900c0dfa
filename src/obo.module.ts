import { Inject, Module, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DiscoveryModule, HttpAdapterHost } from '@nestjs/core';
import { declareFastifyRequestUser } from './auth/fastify-request-user.js';
import { AccessTokenVerifier } from './auth/access-token-verifier.js';
import { OboAuthGuard } from './auth/obo-auth.guard.js';
import { InMemoryTokenCache } from './cache/in-memory-token-cache.js';
import { InMemoryLongRunningSessionStore, LongRunningSessionStore, providesSessionStore } from './cache/long-running-session-store.js';
import { OboTokenCache } from './cache/obo-token-cache.js';
import type { OboModuleOptions } from './config/obo-module-options.js';
import { resolveOboOptions, type ResolvedOboOptions } from './config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from './config/tokens.js';
import { AuthorityMetadataClient } from './discovery/authority-metadata.js';
import { AppTokenPipe } from './decorators/app-token.pipe.js';
import { DownstreamTokenPipe } from './decorators/downstream-token.pipe.js';
import { DownstreamApiPipe } from './downstream/downstream-api.pipe.js';
import { DownstreamApiService } from './downstream/downstream-api.service.js';
import { MsalTokenExchanger } from './msal/msal-token-exchanger.js';
import { TokenAcquisitionService } from './exchange/token-acquisition.service.js';
import { ConfigurableOboModule, OBO_MODULE_OPTIONS } from './obo.module-definition.js';
import { RouteCheck } from './routes/route-check.js';
import { RouteInventory } from './routes/route-inventory.js';

/**
 * Registers the confidential client: `OboModule.forRoot({ tenantId, clientId, credential })` or
 * `OboModule.forRootAsync({ useFactory, inject, imports })`. Global by default. Options are validated once, at
 * bootstrap; every problem is reported together in one `OboConfigurationError`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: OBO_RESOLVED_OPTIONS, useFactory: (options: OboModuleOptions) => resolveOboOptions(options), inject: [OBO_MODULE_OPTIONS] },
    {
      provide: OboTokenCache,
      useFactory: (options: ResolvedOboOptions) => options.cache ?? new InMemoryTokenCache({}, () => options.clock.nowMs()),
      inject: [OBO_RESOLVED_OPTIONS],
    },
    {
      // Where the cache keeps sessions too (Redis: any instance continues a session), else its own bounded memory.
      provide: LongRunningSessionStore,
      useFactory: (options: ResolvedOboOptions, cache: OboTokenCache) =>
        providesSessionStore(cache) ? cache.longRunningSessionStore(options.longRunningSessions) : new InMemoryLongRunningSessionStore(options.longRunningSessions, () => options.clock.nowMs()),
      inject: [OBO_RESOLVED_OPTIONS, OboTokenCache],
    },
    AuthorityMetadataClient,
    AccessTokenVerifier,
    MsalTokenExchanger,
    TokenAcquisitionService,
    OboAuthGuard,
    DownstreamTokenPipe,
    AppTokenPipe,
    DownstreamApiService,
    DownstreamApiPipe,
    RouteInventory,
    RouteCheck,
  ],
  exports: [TokenAcquisitionService, AccessTokenVerifier, OboAuthGuard, OboTokenCache, DownstreamTokenPipe, AppTokenPipe, DownstreamApiService, DownstreamApiPipe,
    // Pipes are built in the module of the controller that uses them; DownstreamTokenPipe reads the named APIs from these.
    OBO_RESOLVED_OPTIONS],
})
export class OboModule extends ConfigurableOboModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(OboTokenCache) private readonly cache: OboTokenCache,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    super();
  }

  /** Before the server starts: Fastify takes request decorators only until it is ready. */
  onModuleInit(): void {
    declareFastifyRequestUser(this.adapterHost?.httpAdapter);
  }

  /**
   * Closes the cache (the module's, or the one it was given, e.g. a `RedisTokenCache` with its connections) when the
   * application shuts down, after the HTTP server has stopped taking requests: without it, `app.close()` would leave
   * sockets open and the process running.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.cache.close?.();
  }
}
