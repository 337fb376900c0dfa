import { OboTokenCache } from '../cache/obo-token-cache.js';
import { OboConfigurationError } from '../errors/obo-errors.js';
import { GUID_PATTERN as GUID } from '../util/ids.js';
import { resolveCredential, type ResolvedCredential } from './credential.js';
import type { OboClock, OboModuleOptions } from './obo-module-options.js';

export type { ResolvedCredential } from './credential.js';

const DOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i;
const MULTI_TENANT = new Set(['organizations', 'common']);
/** Every option's name, checked against `OboModuleOptions` by the compiler: an option cannot be added and forgotten here. */
const OPTION_NAMES: Record<keyof OboModuleOptions, true> = {
  tenantId: true, clientId: true, audiences: true, credential: true, authorityHost: true, allowedTenants: true, allowAnyTenant: true,
  clockToleranceSec: true, cache: true, timeoutMs: true, retries: true, deadlineMs: true, allowGuests: true, fetch: true,
  refreshMarginSec: true, verifiedTokenCacheSize: true, clock: true, warmUp: true, allowPersonalAccounts: true, maxTokenLengthBytes: true,
};
const KNOWN_OPTIONS = new Set(Object.keys(OPTION_NAMES));
/** The tenant of personal Microsoft accounts (MSA): `organizations` never issues its tokens, `common` does. */
export const CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';
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
}

/** What discovery needs: where, through which fetch, how long to wait, and the clock. */
export type MetadataSettings = Pick<ResolvedOboOptions, 'authorityHost' | 'fetch' | 'timeoutMs' | 'clock'>;

/** What token validation needs (no credential): the guard's verifier and the passport strategy share it. */
export type VerifierSettings = MetadataSettings &
  Pick<ResolvedOboOptions, 'tenantId' | 'isMultiTenant' | 'audiences' | 'allowedTenants' | 'clockToleranceSec' | 'allowGuests' | 'verifiedTokenCacheSize'> &
  // Optional so other builders of these settings (the passport strategy) get the defaults without naming them.
  Partial<Pick<ResolvedOboOptions, 'warmUp' | 'allowPersonalAccounts' | 'maxTokenLengthBytes'>>;

export const SYSTEM_CLOCK: OboClock = { nowMs: () => Date.now() };

function integerIn(value: unknown, name: string, min: number, max: number, fallback: number, problems: string[]): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}, got ${typeof value === 'number' ? value : typeof value}`);
    return fallback;
  }
  return value;
}

/**
 * Validates the module's options once, at bootstrap, and reports every problem together in one
 * `OboConfigurationError`. Messages name options, never their secret values.
 */
export function resolveOboOptions(input: OboModuleOptions): ResolvedOboOptions {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null) throw new OboConfigurationError(['options must be an object']);
  for (const name of Object.keys(input)) if (!KNOWN_OPTIONS.has(name)) problems.push(`unknown option '${name}'`);

  const tenantId = typeof input.tenantId === 'string' ? input.tenantId.trim().toLowerCase() : '';
  const isMultiTenant = MULTI_TENANT.has(tenantId);
  if (!GUID.test(tenantId) && !DOMAIN.test(tenantId) && !isMultiTenant) {
    problems.push(`tenantId must be a tenant id (GUID), a tenant domain, 'organizations' or 'common'${tenantId === 'consumers' ? " ('consumers' has no organisational tokens to exchange)" : ''}`);
  }
  const clientId = typeof input.clientId === 'string' ? input.clientId.trim().toLowerCase() : '';
  if (!GUID.test(clientId)) problems.push('clientId must be the application (client) id, a GUID');

  let audiences = [clientId, `api://${clientId}`];
  if (input.audiences !== undefined) {
    if (!Array.isArray(input.audiences) || input.audiences.length === 0 || !input.audiences.every((audience) => typeof audience === 'string' && audience.length > 0)) {
      problems.push('audiences must be a non-empty array of strings');
    } else {
      audiences = [...input.audiences];
    }
  }

  // An API that only validates tokens needs no credential; acquiring tokens without one is a configuration error.
  const credential = input.credential === undefined ? undefined : resolveCredential(input.credential, problems);

  let authorityHost = 'https://login.microsoftonline.com';
  if (input.authorityHost !== undefined) {
    try {
      const url = new URL(input.authorityHost);
      if (url.protocol !== 'https:') problems.push('authorityHost must be an https: URL (Entra and MSAL refuse http:)');
      else if (url.pathname !== '/' || url.search || url.hash) problems.push('authorityHost must be a bare origin like https://login.microsoftonline.com, without a path');
      else authorityHost = url.origin;
    } catch {
      problems.push('authorityHost must be a URL like https://login.microsoftonline.com');
    }
  }

  let allowedTenants: ReadonlySet<string> | 'any' = new Set(GUID.test(tenantId) ? [tenantId] : []);
  if (input.allowedTenants !== undefined && input.allowAnyTenant === true) {
    problems.push('allowedTenants and allowAnyTenant contradict each other: give one');
  } else if (isMultiTenant) {
    if (input.allowAnyTenant === true) {
      allowedTenants = 'any';
    } else if (Array.isArray(input.allowedTenants) && input.allowedTenants.length > 0 && input.allowedTenants.every((tenant) => typeof tenant === 'string' && GUID.test(tenant))) {
      allowedTenants = new Set(input.allowedTenants.map((tenant) => tenant.toLowerCase()));
    } else if (input.allowedTenants !== undefined) {
      problems.push('allowedTenants must be a non-empty array of tenant ids (GUIDs)');
    } else {
      problems.push(`a multi-tenant tenantId ('${tenantId}') needs allowedTenants (tenant ids) or allowAnyTenant: true`);
    }
  } else if (input.allowedTenants !== undefined || input.allowAnyTenant !== undefined) {
    problems.push(`allowedTenants and allowAnyTenant apply only to a multi-tenant tenantId ('organizations' or 'common')`);
  }

  const clockToleranceSec = integerIn(input.clockToleranceSec, 'clockToleranceSec', 0, 300, 60, problems);
  const timeoutMs = integerIn(input.timeoutMs, 'timeoutMs', 1, 120_000, 10_000, problems);
  const retries = integerIn(input.retries, 'retries', 0, 5, 2, problems);
  const deadlineMs = integerIn(input.deadlineMs, 'deadlineMs', 1, 600_000, 15_000, problems);
  const refreshMarginSec = integerIn(input.refreshMarginSec, 'refreshMarginSec', 0, 3600, 300, problems);
  const verifiedTokenCacheSize = integerIn(input.verifiedTokenCacheSize, 'verifiedTokenCacheSize', 0, 10_000_000, 10_000, problems);

  if (input.cache !== undefined && !(input.cache instanceof OboTokenCache)) {
    const candidate = input.cache as unknown as Record<string, unknown>;
    if (typeof candidate?.get !== 'function' || typeof candidate.set !== 'function' || typeof candidate.delete !== 'function') {
      problems.push('cache must implement OboTokenCache (get, set, delete)');
    }
  }
  if (input.fetch !== undefined && typeof input.fetch !== 'function') problems.push('fetch must be a fetch function');
  if (input.allowGuests !== undefined && typeof input.allowGuests !== 'boolean') problems.push('allowGuests must be a boolean');
  if (input.clock !== undefined && typeof input.clock?.nowMs !== 'function') problems.push('clock must have a nowMs() method');
  if (input.warmUp !== undefined && typeof input.warmUp !== 'boolean') problems.push('warmUp must be a boolean');
  if (input.allowPersonalAccounts !== undefined && typeof input.allowPersonalAccounts !== 'boolean') problems.push('allowPersonalAccounts must be a boolean');
  else if (input.allowPersonalAccounts === true && tenantId !== 'common') {
    problems.push(`allowPersonalAccounts needs tenantId 'common' (${tenantId === 'organizations' ? "'organizations' never accepts personal accounts" : 'a single-tenant API accepts only its tenant'})`);
  }
  if (allowedTenants !== 'any' && allowedTenants.has(CONSUMERS_TENANT_ID) && isMultiTenant) {
    problems.push(`allowedTenants: ${CONSUMERS_TENANT_ID} is the personal-account (consumers) tenant; accept personal accounts with tenantId 'common' and allowPersonalAccounts: true`);
  }
  const maxTokenLengthBytes = integerIn(input.maxTokenLengthBytes, 'maxTokenLengthBytes', 1024, 16 * 1024 * 1024, DEFAULT_MAX_TOKEN_LENGTH_BYTES, problems);

  if (problems.length > 0) throw new OboConfigurationError(problems);
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
    allowGuests: input.allowGuests ?? true,
    fetch: input.fetch ?? globalThis.fetch,
    refreshMarginSec,
    verifiedTokenCacheSize,
    clock: input.clock ?? SYSTEM_CLOCK,
    warmUp: input.warmUp ?? true,
    allowPersonalAccounts: input.allowPersonalAccounts === true,
    maxTokenLengthBytes,
  };
}
