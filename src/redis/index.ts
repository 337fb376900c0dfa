/**
 * `nestjs-entra-obo/redis`: the distributed token cache. Needs the optional peer `ioredis`.
 */

/** Two-level (memory + Redis), encrypted, outage-tolerant `OboTokenCache`. */
export { RedisTokenCache } from './redis-token-cache.js';
export type { RedisTokenCacheOptions, RedisTokenCacheStats } from './redis-token-cache.js';
export type { BreakerState } from './circuit-breaker.js';
