/**
 * `nestjs-entra-obo`: Microsoft Entra ID On-Behalf-Of, client credentials and access-token validation for NestJS.
 * The Entra ID emulator and test kit are at `nestjs-entra-obo/testing`.
 */

/** The module: `OboModule.forRoot(options)` / `forRootAsync({ useFactory, inject, imports })`. */
export { OboModule } from './obo.module.js';
export type { OboModuleOptions, OboModuleExtras, OboCredential, OboClock, PemOrPath } from './config/obo-module-options.js';

/** Validates the caller's bearer access token; attaches `request.user`. */
export { OboAuthGuard } from './auth/obo-auth.guard.js';
export type { GuardedRequest } from './auth/obo-auth.guard.js';
export { keepUpgradeRequest, transportRequestOf } from './auth/transport-request.js';
/** What a route asks of its caller, as `OboAuthGuard.authorize` receives it (for subclasses). */
export type { RouteRequirements } from './auth/route-requirements.js';
/** The validated caller. */
export type { EntraPrincipal } from './auth/entra-principal.js';
/** The token validator behind the guard, for use outside HTTP (WebSockets, queues). */
export { AccessTokenVerifier } from './auth/access-token-verifier.js';

/** Route metadata and parameter decorators. */
export { Public } from './decorators/public.decorator.js';
export { RequireScopes } from './decorators/require-scopes.decorator.js';
export { RequireRoles } from './decorators/require-roles.decorator.js';
export { CurrentUser } from './decorators/current-user.decorator.js';
export { DownstreamToken } from './decorators/downstream-token.decorator.js';
export { AppToken } from './decorators/app-token.decorator.js';
export { RequireAuthContext } from './decorators/require-auth-context.decorator.js';
export type { DownstreamTokenOptions } from './decorators/downstream-token.pipe.js';
export type { AppTokenOptions } from './decorators/app-token.pipe.js';

/** Programmatic token acquisition. */
export { TokenAcquisitionService } from './exchange/token-acquisition.service.js';
export { requestCorrelationId } from './exchange/correlation-id.js';
export type { AcquiredToken, AcquireOnBehalfOfOptions, AcquireAppTokenOptions, LongRunningSessionOptions, LongRunningSessionStart } from './exchange/token-acquisition.service.js';

/** Named downstream APIs (`downstreamApis`): an injected client, or one made by the service; their error. */
export { DownstreamApi } from './downstream/downstream-api.decorator.js';
export { DownstreamApiClient } from './downstream/downstream-api-client.js';
export { DownstreamApiService } from './downstream/downstream-api.service.js';
export { DownstreamApiError } from './downstream/downstream-api-error.js';
export type { DownstreamApiOptions } from './config/obo-module-options.js';

/** Reads a `WWW-Authenticate: Bearer` challenge (error, decoded claims, scope, authorization_uri), e.g. in a web app. */
export { parseWwwAuthenticate } from './errors/www-authenticate.js';
export type { BearerChallengeParams } from './errors/www-authenticate.js';

/** The cache port and the default bounded in-memory cache. */
export { OboTokenCache } from './cache/obo-token-cache.js';
export type { CachedToken, CacheLock, CacheHealth } from './cache/obo-token-cache.js';
export { InMemoryTokenCache, DEFAULT_MAX_CACHE_ENTRIES } from './cache/in-memory-token-cache.js';
export type { InMemoryTokenCacheOptions } from './cache/in-memory-token-cache.js';
/** Where long-running On-Behalf-Of sessions (their refresh tokens) are kept: the port and the in-memory store. */
export { LongRunningSessionStore, InMemoryLongRunningSessionStore } from './cache/long-running-session-store.js';
export type { LongRunningSession, LongRunningSessionSettings, LongRunningSessionStoreProvider } from './cache/long-running-session-store.js';

/** Errors, each with a literal `code`, and their HTTP mapping. */
export {
  OboError,
  EntraResponseError,
  MissingTokenError,
  InvalidTokenError,
  InsufficientScopeError,
  AppOnlyTokenError,
  InsufficientClaimsError,
  ConsentRequiredError,
  ConditionalAccessBlockedError,
  InvalidGrantError,
  ClientConfigurationError,
  IdentityProviderUnavailableError,
  OboConfigurationError,
} from './errors/obo-errors.js';
export type { OboErrorCode, EntraErrorDetails, KnownOboError, InvalidTokenReason, ConfigurationSubject } from './errors/obo-errors.js';
export { OboExceptionFilter, toErrorResponse } from './filters/obo-exception.filter.js';
export type { OboErrorResponse } from './filters/obo-exception.filter.js';
