import { BoundedMap } from '../util/bounded-map.js';

/**
 * Remembers that Entra throttled a request (429) until its `Retry-After` has passed, so the same request is answered
 * locally instead of being sent again: Entra counts retries against the caller, and a client that keeps asking stays
 * throttled. Keyed like the token cache (tenant, scopes, the caller's token, or the app-token key), so other callers
 * are unaffected. Bounded in entries; the oldest goes first.
 */
export class ThrottleMemory {
  private readonly until: BoundedMap<string, number>;

  constructor(
    private readonly nowMs: () => number,
    maxEntries = 10_000,
  ) {
    this.until = new BoundedMap(maxEntries);
  }

  /** Seconds left before `key` may be asked again, or undefined when it is not throttled. */
  remainingSec(key: string): number | undefined {
    const untilMs = this.until.get(key);
    if (untilMs === undefined) return undefined;
    const remainingMs = untilMs - this.nowMs();
    if (remainingMs <= 0) {
      this.until.delete(key);
      return undefined;
    }
    return Math.ceil(remainingMs / 1000);
  }

  remember(key: string, retryAfterSec: number): void {
    if (retryAfterSec <= 0) return;
    this.until.set(key, this.nowMs() + retryAfterSec * 1000);
  }

  get size(): number {
    return this.until.size;
  }
}
