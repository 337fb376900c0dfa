// The one file that imports @nestjs/terminus (an optional peer, reached only through `nestjs-entra-obo/terminus`).
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { AccessTokenVerifier } from '../auth/access-token-verifier.js';
import { OboTokenCache, type CacheHealth } from '../cache/obo-token-cache.js';
import type { ResolvedOboOptions } from '../config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from '../config/tokens.js';
import { entraHealthReport, type EntraHealthDetails } from './entra-health-report.js';

/**
 * A `@nestjs/terminus` health indicator for the module: signing keys loaded and fresh, the discovery document
 * reachable, and the token cache's state (`entra-health-report.ts` decides up, degraded or down). Provide it beside
 * `TerminusModule` and call `isHealthy('entra')` in a `HealthCheckService.check([...])`, e.g. on a readiness route.
 *
 * A probe every few seconds does not reach Entra: keys and discovery are reported as the verifier knows them. Only
 * while no key set has loaded (before warm-up finished, or after it failed) does a probe fetch them, once, bounded by
 * the module's `timeoutMs`, and never again before the failed fetch's backoff has passed. The cache's own `health()`
 * (a Redis PING, skipped while its breaker is open) runs on each probe.
 */
@Injectable()
export class EntraHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly verifier: AccessTokenVerifier,
    private readonly cache: OboTokenCache,
    @Inject(OBO_RESOLVED_OPTIONS) private readonly options: ResolvedOboOptions,
  ) {}

  async isHealthy<const Key extends string>(key: Key): Promise<HealthIndicatorResult<Key, 'up' | 'degraded' | 'down', EntraHealthDetails>> {
    const session = this.indicators.check(key);
    const [verifier, cache] = await Promise.all([this.verifier.health(), this.cacheHealth()]);
    const { status, details } = entraHealthReport(verifier, cache, this.options.clock.nowMs());
    if (status === 'down') return session.down(details);
    if (status === 'degraded') return session.degraded(details);
    return session.up(details);
  }

  private async cacheHealth(): Promise<CacheHealth | undefined> {
    if (!this.cache.health) return undefined;
    try {
      return await this.cache.health();
    } catch {
      // A custom cache's probe that throws: its store is not answering as far as we can tell. Its message stays out.
      return { available: false, details: { healthError: true } };
    }
  }
}
