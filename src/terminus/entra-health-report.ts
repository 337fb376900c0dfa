import type { VerifierHealth } from '../auth/access-token-verifier.js';
import type { CacheHealth } from '../cache/obo-token-cache.js';

/** terminus's three states: `degraded` keeps the check's HTTP status at 200 (serving, but impaired). */
export type EntraHealthStatus = 'up' | 'degraded' | 'down';

/** The details an `EntraHealthIndicator` result carries: ids, hosts, times and our own messages, nothing secret. */
export interface EntraHealthDetails {
  [name: string]: unknown;
  authorityHost: string;
  tenant: string;
  signingKeys: { loaded: boolean; keyIds: string[]; fetchedAt?: string; ageSec?: number; lastError?: string; retryAfterSec?: number };
  discovery: { fetchedAt?: string; lastError?: string };
  /** The cache's own report; `{ reported: false }` for a custom cache without `health()`. */
  cache: { available?: boolean; reported: boolean; [detail: string]: unknown };
  /** Why the state is not `up`, one short sentence each; absent when up. */
  problems?: string[];
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Drops undefined fields, so a result reads `{ loaded: true, keyIds: [...] }`, not a list of `undefined`s. */
function defined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

/**
 * Decides the health of token validation and exchange from what the verifier and the cache report:
 * - `down` when no signing key has ever loaded: every request that needs validating gets 503, so the instance should
 *   not receive traffic (a readiness probe fails);
 * - `degraded` when the API still serves but something failed: the last key or discovery fetch failed (the last good
 *   keys keep verifying), or the cache's store does not answer (Redis down: requests go through memory and Entra);
 * - `up` otherwise.
 */
export function entraHealthReport(verifier: VerifierHealth, cache: CacheHealth | undefined, nowMs: number): { status: EntraHealthStatus; details: EntraHealthDetails } {
  const { signingKeys: keys, discovery } = verifier;
  const problems: string[] = [];
  const loaded = keys.keyIds.length > 0;
  if (!loaded) problems.push(`No signing keys loaded from ${verifier.authorityHost}${keys.lastError ? ` (${keys.lastError})` : ''}: tokens cannot be validated`);
  else if (keys.lastError) problems.push(`Refreshing the signing keys failed (${keys.lastError}); the last good keys are in use`);
  if (discovery.lastError) problems.push(`Fetching the discovery document failed (${discovery.lastError})`);
  if (cache && !cache.available) problems.push('The token cache store does not answer; tokens are served from memory and Entra');

  const details: EntraHealthDetails = {
    authorityHost: verifier.authorityHost,
    tenant: verifier.tenant,
    signingKeys: defined({
      loaded,
      keyIds: keys.keyIds,
      fetchedAt: iso(keys.fetchedAtMs),
      ageSec: keys.fetchedAtMs === undefined ? undefined : Math.max(0, Math.floor((nowMs - keys.fetchedAtMs) / 1000)),
      lastError: keys.lastError,
      retryAfterSec: keys.retryAfterSec,
    }),
    discovery: defined({ fetchedAt: iso(discovery.fetchedAtMs), lastError: discovery.lastError }),
    cache: cache ? { ...cache.details, available: cache.available, reported: true } : { reported: false },
  };
  if (problems.length > 0) details.problems = problems;
  return { status: !loaded ? 'down' : problems.length > 0 ? 'degraded' : 'up', details };
}
