import type { AccessTokenVerifier } from '../../src/auth/access-token-verifier.js';
import { attachAccessToken, type EntraPrincipal } from '../../src/auth/entra-principal.js';
import type { LongRunningSessionStore } from '../../src/cache/long-running-session-store.js';
import type { OboTokenCache } from '../../src/cache/obo-token-cache.js';
import { SYSTEM_CLOCK, type ResolvedOboOptions } from '../../src/config/resolve-options.js';
import type { AuthorityMetadataClient } from '../../src/discovery/authority-metadata.js';
import type { MsalTokenExchanger } from '../../src/msal/msal-token-exchanger.js';
import { TokenAcquisitionService } from '../../src/exchange/token-acquisition.service.js';

/** Fixtures for unit specs of `TokenAcquisitionService`, which build it without Nest, Entra or a real verifier. */
export const TEST_TENANT = '08ca7782-ab9b-4297-96fe-a80d943ee9f4';
export const TEST_SCOPE = 'api://downstream/Profile.Read';
export const TEST_API = { clientId: '6e74172b-be56-4843-9ff4-e66a39bb12e3', authorityHost: 'https://login.microsoftonline.com' };

/** A validated user, as the guard would attach it, with the token behind it. */
export function testPrincipal(options: { token?: string; expiresOnMs?: number } = {}): EntraPrincipal {
  const token = options.token ?? 'incoming-token';
  const user: EntraPrincipal = {
    oid: 'd09fdcc1-d26e-48e6-baa5-5305c1dcbf61',
    tid: TEST_TENANT,
    sub: 'subject',
    name: undefined,
    username: undefined,
    scopes: ['access_as_user'],
    roles: [],
    clientId: 'web-app',
    isAppOnly: false,
    isGuest: false,
    claims: {},
  };
  attachAccessToken(user, { token, hash: `${token}-hash`, expiresOnMs: options.expiresOnMs ?? Date.now() + 3_600_000 });
  return user;
}

/** A service over `cache` and a fake exchanger; by default the verifier trusts every principal it is shown (the specs build them). */
export function testService(
  cache: OboTokenCache,
  exchanger: Partial<Record<keyof MsalTokenExchanger, unknown>>,
  options: Partial<ResolvedOboOptions> = {},
  metadata: Partial<AuthorityMetadataClient> = {},
  verifier: Partial<AccessTokenVerifier> = { isOwnPrincipal: (() => true) as unknown as AccessTokenVerifier['isOwnPrincipal'] },
  sessionStore?: LongRunningSessionStore,
): TokenAcquisitionService {
  const resolved = {
    ...TEST_API,
    tenantId: TEST_TENANT,
    isMultiTenant: false,
    allowedTenants: new Set([TEST_TENANT]),
    timeoutMs: 10_000,
    retries: 2,
    deadlineMs: 15_000,
    refreshMarginSec: 0,
    clock: SYSTEM_CLOCK,
    longRunningSessions: { idleTimeoutSec: 3600, maxSessions: 100 },
    ...options,
  } as ResolvedOboOptions;
  return new TokenAcquisitionService(resolved, verifier as AccessTokenVerifier, exchanger as unknown as MsalTokenExchanger, cache, metadata as AuthorityMetadataClient, sessionStore);
}
