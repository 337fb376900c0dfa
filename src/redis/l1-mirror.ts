import type { Cluster, Redis } from 'ioredis';
import { InMemoryTokenCache } from '../cache/in-memory-token-cache.js';
import type { CachedToken } from '../cache/obo-token-cache.js';
import type { OboClock } from '../config/obo-module-options.js';
import { BoundedMap } from '../util/bounded-map.js';
import type { RedisKeyNames } from './redis-key-names.js';

/**
 * The in-process L1 in front of Redis: entries live at most `maxAgeMs` here, and evictions published by any instance
 * (`removeUser`) reach it through pub/sub, so instances converge; a lost message is bounded by `maxAgeMs`.
 */
export class L1Mirror {
  private readonly l1: InMemoryTokenCache | undefined;
  /** Keyed user tag → the user's ids, for users with entries here (to evict them when another instance says so). */
  private readonly users: BoundedMap<string, { tenantId: string; userObjectId: string }>;

  constructor(
    maxEntries: number,
    private readonly maxAgeMs: number,
    private readonly clock: OboClock,
    private readonly names: RedisKeyNames,
    private readonly subscriber: Redis | Cluster,
  ) {
    this.l1 = maxEntries > 0 ? new InMemoryTokenCache({ maxEntries }, () => clock.nowMs()) : undefined;
    // The map only names users; bound it with L1 (stale names just evict nothing).
    this.users = new BoundedMap(Math.max(1, maxEntries));
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, userTag: string) => this.evictTag(userTag));
    // Renewed on every (re)connection: ioredis's own resubscription is off (see GuardedRedis.duplicate).
    subscriber.on('ready', () => {
      subscriber.subscribe(names.invalidationChannel).catch(() => undefined);
    });
  }

  get(key: string): CachedToken | undefined {
    return this.l1?.get(key);
  }

  remember(key: string, value: CachedToken, cacheUntilMs: number): void {
    if (!this.l1) return;
    this.l1.set(key, value, Math.min(cacheUntilMs, this.clock.nowMs() + this.maxAgeMs));
    if (value.userObjectId) {
      this.users.set(this.names.userTag(value.tenantId, value.userObjectId), { tenantId: value.tenantId, userObjectId: value.userObjectId });
    }
  }

  delete(key: string): void {
    this.l1?.delete(key);
  }

  removeUser(tenantId: string, userObjectId: string): void {
    this.l1?.removeUser(tenantId, userObjectId);
  }

  close(): void {
    this.subscriber.disconnect();
  }

  private evictTag(userTag: string): void {
    const user = this.users.get(userTag);
    if (!user) return;
    this.l1?.removeUser(user.tenantId, user.userObjectId);
    this.users.delete(userTag);
  }
}
