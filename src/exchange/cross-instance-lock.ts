import type { CacheLock, CachedToken, OboTokenCache } from '../cache/obo-token-cache.js';

const LOCK_POLL_INTERVAL_MS = 25;

/**
 * Takes the cache's cross-instance lock for `key`, or, while another instance holds it, waits for that instance's
 * entry. Returns the entry, the lock, or undefined (no lock support, or the wait ran out: exchange anyway).
 */
export async function lockOrWait(cache: OboTokenCache, lookup: (key: string) => Promise<CachedToken | undefined>, key: string, lockTtlMs: number, deadlineAtMs: number): Promise<CachedToken | CacheLock | undefined> {
  if (!cache.tryLock) return undefined;
  // The wait is bounded by one exchange of the holder and by this acquisition's own deadline.
  const deadline = Math.min(Date.now() + lockTtlMs, deadlineAtMs);
  for (;;) {
    const lock = await cache.tryLock(key, lockTtlMs);
    if (lock) {
      // A lock just freed is most often the winner's, released right after it stored its token: read once more, or
      // every instance that was waiting would take the lock in turn and exchange again.
      const entry = await lookup(key);
      if (!entry) return lock;
      await lock.release().catch(() => undefined);
      return entry;
    }
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_INTERVAL_MS));
    // The holder stored its token, or released the lock after failing (then the next round takes it).
    const entry = await lookup(key);
    if (entry) return entry;
  }
}
