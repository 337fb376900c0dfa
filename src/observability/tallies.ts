// Plain counters that hot paths bump: a cache lookup and a refused token cost one integer increment here, never an
// OpenTelemetry call or a promise. open-telemetry.ts reads them at collection time through observable counters. They
// are per process, like every OpenTelemetry instrument: two modules in one process add up.
import { reportTallies, type TallyReadings } from './open-telemetry.js';

/** The tiers a token cache looks in: the in-process LRU (`InMemoryTokenCache`, a `RedisTokenCache`'s L1) and Redis. */
export type CacheTier = 'l1' | 'l2';

const lookups: Record<CacheTier, { hits: number; misses: number }> = { l1: { hits: 0, misses: 0 }, l2: { hits: 0, misses: 0 } };
/** Per `InvalidTokenReason` code: a fixed set of a dozen, so the map stays small. */
const rejections = new Map<string, number>();
let reporting = false;

const readings: TallyReadings = {
  *cacheLookups() {
    for (const tier of ['l1', 'l2'] as const) {
      const { hits, misses } = lookups[tier];
      // A tier never looked in (no Redis) reports nothing rather than a series of zeros.
      if (hits + misses === 0) continue;
      yield { tier, result: 'hit', value: hits };
      yield { tier, result: 'miss', value: misses };
    }
  },
  rejections: () => rejections.entries(),
};

/**
 * The first count that is not a cache hit loads the API and registers the observable counters (open-telemetry.ts);
 * a miss is followed by a Redis call or a token request anyway, and a process that only hits never loads it.
 */
function startReporting(): void {
  if (reporting) return;
  reporting = true;
  reportTallies(readings);
}

export function countCacheHit(tier: CacheTier): void {
  lookups[tier].hits += 1;
}

export function countCacheMiss(tier: CacheTier): void {
  lookups[tier].misses += 1;
  startReporting();
}

/** `reason` is an `InvalidTokenReason` code, never a claim value. */
export function countRejection(reason: string): void {
  rejections.set(reason, (rejections.get(reason) ?? 0) + 1);
  startReporting();
}

/** The totals so far, for tests and for code that reads them without OpenTelemetry. */
export function tallySnapshot(): { cacheLookups: Record<CacheTier, { hits: number; misses: number }>; rejections: Record<string, number> } {
  return { cacheLookups: { l1: { ...lookups.l1 }, l2: { ...lookups.l2 } }, rejections: Object.fromEntries(rejections) };
}
