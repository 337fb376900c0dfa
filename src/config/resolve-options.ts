import { OboTokenCache } from '../cache/obo-token-cache.js';
import { Problems, type OptionNameTable } from '../util/problems.js';
import { GUID_PATTERN as GUID } from '../util/ids.js';
import { resolveCredential, type ResolvedCredential } from './credential.js';
import type { OboClock, OboModuleOptions } from './obo-module-options.js';
import type { LongRunningSessionSettings } from '../cache/long-running-session-store.js';
import { correlationHeadersRule } from './correlation-headers-option.js';
import { longRunningSessionsRule } from './long-running-sessions-option.js';
import { clientCapabilitiesRule, downstreamApisRule, type ResolvedDownstreamApi } from './downstream-api-options.js';
import { audiencesRule, clientIdRule, clockToleranceRule, consumersTenantRule, tenantIdsRule, tenantRule } from './option-rules.js';

export type { ResolvedCredential } from './credential.js';
export type { ResolvedDownstreamApi } from './downstream-api-options.js';
export { CONSUMERS_TENANT_ID } from './option-rules.js';

/** Every option's name, checked against `OboModuleOptions` by the compiler: an option cannot be added and forgotten here. */
const OPTION_NAMES: OptionNameTable<OboModuleOptions> = {
  tenantId: true, clientId: true, audiences: true, credential: true, authorityHost: true, allowedTenants: true, allowAnyTenant: true,
  clockToleranceSec: true, cache: true, timeoutMs: true, retries: true, deadlineMs: true, allowGuests: true, fetch: true,
  refreshMarginSec: true, verifiedTokenCacheSize: true, clock: true, warmUp: true, allowPersonalAccounts: true, maxTokenLengthBytes: true,
  downstreamApis: true, downstreamFetch: true, downstreamTimeoutMs: true, clientCapabilities: true, correlationHeaders: true,
  longRunningSessions: true,
};
/** Microsoft.IdentityModel's `TokenValidationParameters.DefaultMaximumTokenSizeInBytes` (1024 × 250). */
export const DEFAULT_MAX_TOKEN_LENGTH_BYTES = 256_000;

export interface ResolvedOboOptions {
  tenantId: string;
  isMultiTenant: boolean;
  clientId: string;
  audiences: string[];
  /** Absent for an API that only validates tokens. */
  credential: ResolvedCredential | undefined;
  authorityHost: string;
  allowedTenants: ReadonlySet<string> | 'any';
  clockToleranceSec: number;
  cache: OboTokenCache | undefined;
  timeoutMs: number;
  retries: number;
  /** Bounds one whole acquisition: attempts, backoff, waits for another instance's lock. */
  deadlineMs: number;
  allowGuests: boolean;
  fetch: typeof fetch;
  refreshMarginSec: number;
  verifiedTokenCacheSize: number;
  clock: OboClock;
  warmUp: boolean;
  allowPersonalAccounts: boolean;
  maxTokenLengthBytes: number;
  /** The named downstream APIs by name. */
  downstreamApis: ReadonlyMap<string, ResolvedDownstreamApi>;
  downstreamFetch: typeof fetch;
  downstreamTimeoutMs: number;
  clientCapabilities: readonly string[];
  /** Lower-cased header names whose value may name the incoming request's id (the exchange's correlation id). */
  correlationHeaders: readonly string[];
  /** The long-running sessions' idle limit and bound. */
  longRunningSessions: LongRunningSessionSettings;
}

/** What discovery needs: where, through which fetch, how long to wait, and the clock. */
export type MetadataSettings = Pick<ResolvedOboOptions, 'authorityHost' | 'fetch' | 'timeoutMs' | 'clock'>;

/** What token validation needs (no credential): the guard's verifier and the passport strategy share it. */
export type VerifierSettings = MetadataSettings &
  Pick<ResolvedOboOptions, 'tenantId' | 'isMultiTenant' | 'audiences' | 'allowedTenants' | 'clockToleranceSec' | 'allowGuests' | 'verifiedTokenCacheSize'> &
  // Optional so other builders of these settings (the passport strategy) get the defaults without naming them.
  Partial<Pick<ResolvedOboOptions, 'warmUp' | 'allowPersonalAccounts' | 'maxTokenLengthBytes'>>;

export const SYSTEM_CLOCK: OboClock = { nowMs: () => Date.now() };

/**
 * Validates the module's options once, at bootstrap, and reports every problem together in one
 * `OboConfigurationError`. Messages name options, never their secret values.
 */
export function resolveOboOptions(input: OboModuleOptions): ResolvedOboOptions {
  const problems = new Problems('OboModule options');
  if (typeof input !== 'object' || input === null) {
    problems.add('options must be an object');
    problems.throwIfAny();
  }
  problems.unknownOptions(input, OPTION_NAMES);

  const { tenantId, isMultiTenant } = tenantRule(input.tenantId, 'tenantId', problems);
  const clientId = clientIdRule(input.clientId, 'clientId', problems);
  const audiences = audiencesRule(input.audiences, 'audiences', [clientId, `api://${clientId}`], problems);

  // An API that only validates tokens needs no credential; acquiring tokens without one is a configuration error.
  const credential = input.credential === undefined ? undefined : resolveCredential(input.credential, problems);
  const authorityHost = authorityHostOf(input.authorityHost, problems);
  const allowedTenants = allowedTenantsOf(input, tenantId, isMultiTenant, problems);

  const clockToleranceSec = clockToleranceRule(input.clockToleranceSec, 'clockToleranceSec', 60, problems);
  const timeoutMs = problems.integerIn(input.timeoutMs, 'timeoutMs', { min: 1, max: 120_000 }, 10_000);
  const retries = problems.integerIn(input.retries, 'retries', { min: 0, max: 5 }, 2);
  const deadlineMs = problems.integerIn(input.deadlineMs, 'deadlineMs', { min: 1, max: 600_000 }, 15_000);
  const refreshMarginSec = problems.integerIn(input.refreshMarginSec, 'refreshMarginSec', { min: 0, max: 3600 }, 300);
  const verifiedTokenCacheSize = problems.integerIn(input.verifiedTokenCacheSize, 'verifiedTokenCacheSize', { min: 0, max: 10_000_000 }, 10_000);

  if (input.cache !== undefined && !(input.cache instanceof OboTokenCache)) {
    const candidate = input.cache as unknown as Record<string, unknown>;
    if (typeof candidate?.get !== 'function' || typeof candidate.set !== 'function' || typeof candidate.delete !== 'function') {
      problems.add('cache must implement OboTokenCache (get, set, delete)');
    }
  }
  const fetchImplementation = problems.func<typeof fetch>(input.fetch, 'fetch', 'a fetch function', globalThis.fetch);
  const allowGuests = problems.boolean(input.allowGuests, 'allowGuests', true);
  if (input.clock !== undefined && typeof input.clock?.nowMs !== 'function') problems.add('clock must have a nowMs() method');
  const warmUp = problems.boolean(input.warmUp, 'warmUp', true);
  const allowPersonalAccounts = problems.boolean(input.allowPersonalAccounts, 'allowPersonalAccounts', false);
  if (allowPersonalAccounts && tenantId !== 'common') {
    problems.add(`allowPersonalAccounts needs tenantId 'common' (${tenantId === 'organizations' ? "'organizations' never accepts personal accounts" : 'a single-tenant API accepts only its tenant'})`);
  }
  if (isMultiTenant) consumersTenantRule(allowedTenants, 'allowedTenants', problems);
  const maxTokenLengthBytes = problems.integerIn(input.maxTokenLengthBytes, 'maxTokenLengthBytes', { min: 1024, max: 16 * 1024 * 1024 }, DEFAULT_MAX_TOKEN_LENGTH_BYTES);

  const downstreamApis = downstreamApisRule(input.downstreamApis, problems);
  const downstreamFetch = problems.func<typeof fetch>(input.downstreamFetch, 'downstreamFetch', 'a fetch function', globalThis.fetch);
  const downstreamTimeoutMs = problems.integerIn(input.downstreamTimeoutMs, 'downstreamTimeoutMs', { min: 1, max: 600_000 }, 30_000);
  const clientCapabilities = clientCapabilitiesRule(input.clientCapabilities, problems);
  const correlationHeaders = correlationHeadersRule(input.correlationHeaders, problems);
  const longRunningSessions = longRunningSessionsRule(input.longRunningSessions, problems);

  problems.throwIfAny();
  return {
    tenantId,
    isMultiTenant,
    clientId,
    audiences,
    credential,
    authorityHost,
    allowedTenants,
    clockToleranceSec,
    cache: input.cache,
    timeoutMs,
    retries,
    deadlineMs,
    allowGuests,
    fetch: fetchImplementation,
    refreshMarginSec,
    verifiedTokenCacheSize,
    clock: input.clock ?? SYSTEM_CLOCK,
    warmUp,
    allowPersonalAccounts,
    maxTokenLengthBytes,
    downstreamApis,
    downstreamFetch,
    downstreamTimeoutMs,
    clientCapabilities,
    correlationHeaders,
    longRunningSessions,
  };
}

/** The authority host: a bare https origin (MSAL refuses http authorities). */
function authorityHostOf(value: unknown, problems: Problems): string {
  if (value === undefined) return 'https://login.microsoftonline.com';
  try {
    const url = new URL(value as string);
    if (url.protocol !== 'https:') problems.add('authorityHost must be an https: URL (Entra and MSAL refuse http:)');
    else if (url.pathname !== '/' || url.search || url.hash) problems.add('authorityHost must be a bare origin like https://login.microsoftonline.com, without a path');
    else return url.origin;
  } catch {
    problems.add('authorityHost must be a URL like https://login.microsoftonline.com');
  }
  return 'https://login.microsoftonline.com';
}

/** A single-tenant API accepts its own tenant; a multi-tenant one must say which tenants, or that any will do. */
function allowedTenantsOf(input: OboModuleOptions, tenantId: string, isMultiTenant: boolean, problems: Problems): ReadonlySet<string> | 'any' {
  const ownTenant = new Set(GUID.test(tenantId) ? [tenantId] : []);
  if (input.allowedTenants !== undefined && input.allowAnyTenant === true) {
    problems.add('allowedTenants and allowAnyTenant contradict each other: give one');
  } else if (isMultiTenant) {
    if (input.allowAnyTenant === true) return 'any';
    if (input.allowedTenants !== undefined) return tenantIdsRule(input.allowedTenants, 'allowedTenants', problems) ?? ownTenant;
    problems.add(`a multi-tenant tenantId ('${tenantId}') needs allowedTenants (tenant ids) or allowAnyTenant: true`);
  } else if (input.allowedTenants !== undefined || input.allowAnyTenant !== undefined) {
    problems.add(`allowedTenants and allowAnyTenant apply only to a multi-tenant tenantId ('organizations' or 'common')`);
  }
  return ownTenant;
}
