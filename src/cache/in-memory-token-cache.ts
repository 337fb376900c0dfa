import { countCacheHit, countCacheMiss } from '../observability/tallies.js';
import { BoundedMap } from '../util/bounded-map.js';
import { Problems, type OptionNameTable } from '../util/problems.js';
import { OboTokenCache, type CacheHealth, type CachedToken } from './obo-token-cache.js';

export interface InMemoryTokenCacheOptions {
  /** Most entries kept; the least recently used goes first. Default 10,000. */
  maxEntries?: number;
}

interface Entry {
  key: string;
  value: CachedToken;
  cacheUntilMs: number;
  userTag: string | undefined;
  /** The cache's write count when this entry was last (re)set: how far from the newest end it can be. */
  writtenAt: number;
  /** False from the moment the entry leaves the cache (deleted, replaced, expired, evicted, cleared). */
  live: boolean;
}

declare const HELD: unique symbol;
/** One entry of the cache, held by a caller that reads the same key on every request (see `hold`). Opaque. */
export interface HeldCacheEntry {
  readonly [HELD]: true;
}

export const DEFAULT_MAX_CACHE_ENTRIES = 10_000;
const OPTION_NAMES: OptionNameTable<InMemoryTokenCacheOptions> = { maxEntries: true };

/** Entra's tenant and object ids are GUIDs, which compare case-insensitively: one user, whatever the case given. */
function userTag(tenantId: string, userObjectId: string): string {
  return `${tenantId.toLowerCase()}|${userObjectId.toLowerCase()}`;
}

/**
 * The default cache: a bounded LRU in process memory. Every operation is O(1): a `Map` keeps recency order (a hit
 * moves its entry to the end unless it is in the newer half already), and a per-user index makes `removeUser`
 * proportional to that user's entries only.
 */
export class InMemoryTokenCache extends OboTokenCache {
  readonly maxEntries: number;
  private readonly entries: BoundedMap<string, Entry>;
  private readonly keysByUser = new Map<string, Set<string>>();
  /** Every `entries.set`, insert or move; an entry has at most `writes - entry.writtenAt` entries newer than it. */
  private writes = 0;
  /** A hit moves its entry only when it may sit in the older half: see `get`. */
  private readonly freshWrites: number;

  constructor(options: InMemoryTokenCacheOptions = {}, private readonly nowMs: () => number = Date.now) {
    super();
    const problems = new Problems('InMemoryTokenCache options');
    const given: InMemoryTokenCacheOptions = options ?? {};
    problems.unknownOptions(given, OPTION_NAMES);
    this.maxEntries = problems.integerIn(given.maxEntries, 'maxEntries', { min: 1 }, DEFAULT_MAX_CACHE_ENTRIES);
    problems.throwIfAny();
    // Least recently used first out: `get` sets a hit again; an entry dropped for room leaves the user index too.
    this.entries = new BoundedMap(this.maxEntries, (key, entry) => {
      entry.live = false;
      this.unindex(key, entry);
    });
    this.freshWrites = Math.floor(this.maxEntries / 2);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Counted as an `l1` lookup (`entra_obo.cache.lookups`), whether this is the module's cache or a Redis cache's L1. */
  get(key: string): CachedToken | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      countCacheMiss('l1');
      return undefined;
    }
    if (entry.cacheUntilMs <= this.nowMs()) {
      this.remove(key, entry);
      countCacheMiss('l1');
      return undefined;
    }
    // Recency: a hit moves its entry to the newest end, unless fewer than half the bound were written since it was,
    // so it already sits in the newer half and at least that many other entries go before it. A busy key then costs
    // a `Map` lookup per hit, not a delete and an insert.
    if (this.writes - entry.writtenAt >= this.freshWrites) this.write(key, entry);
    countCacheHit('l1');
    return entry.value;
  }

  /**
   * The entry under `key` as it is now, to read again with `getHeld` without looking the key up: one principal's token
   * for one decorator's scopes, read on every request of that user. Undefined when there is none; counts nothing.
   */
  hold(key: string): HeldCacheEntry | undefined {
    return this.entries.get(key) as unknown as HeldCacheEntry | undefined;
  }

  /**
   * `get` of the held entry's key while that entry is still the one in the cache and unexpired: the same value, count
   * and recency, with no lookup. Undefined once it left the cache or expired; then `get` the key (it removes an
   * expired entry and counts the miss).
   */
  getHeld(held: HeldCacheEntry): CachedToken | undefined {
    const entry = held as unknown as Entry;
    if (!entry.live || entry.cacheUntilMs <= this.nowMs()) return undefined;
    if (this.writes - entry.writtenAt >= this.freshWrites) this.write(entry.key, entry);
    countCacheHit('l1');
    return entry.value;
  }

  set(key: string, value: CachedToken, cacheUntilMs: number): void {
    const existing = this.entries.get(key);
    if (existing) this.remove(key, existing);
    if (cacheUntilMs <= this.nowMs()) return;
    const tag = value.userObjectId ? userTag(value.tenantId, value.userObjectId) : undefined;
    this.write(key, { key, value, cacheUntilMs, userTag: tag, writtenAt: 0, live: true });
    if (tag) {
      let keys = this.keysByUser.get(tag);
      if (!keys) this.keysByUser.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  private write(key: string, entry: Entry): void {
    entry.writtenAt = ++this.writes;
    this.entries.set(key, entry);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry) this.remove(key, entry);
  }

  override removeUser(tenantId: string, userObjectId: string): void {
    const tag = userTag(tenantId, userObjectId);
    const keys = this.keysByUser.get(tag);
    if (!keys) return;
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry) entry.live = false;
      this.entries.delete(key);
    }
    this.keysByUser.delete(tag);
  }

  /** Always available: it is process memory. */
  override health(): CacheHealth {
    return { available: true, details: { backend: 'memory', entries: this.entries.size, maxEntries: this.maxEntries } };
  }

  clear(): void {
    for (const entry of this.entries.values()) entry.live = false;
    this.entries.clear();
    this.keysByUser.clear();
  }

  private remove(key: string, entry: Entry): void {
    entry.live = false;
    this.entries.delete(key);
    this.unindex(key, entry);
  }

  private unindex(key: string, entry: Entry): void {
    if (!entry.userTag) return;
    const keys = this.keysByUser.get(entry.userTag);
    keys?.delete(key);
    if (keys?.size === 0) this.keysByUser.delete(entry.userTag);
  }
}
