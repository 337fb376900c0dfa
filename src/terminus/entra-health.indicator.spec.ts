import { HealthIndicatorService } from '@nestjs/terminus';
import type { AccessTokenVerifier, VerifierHealth } from '../auth/access-token-verifier.js';
import type { SigningKeyStatus } from '../auth/signing-key-store.js';
import { InMemoryTokenCache } from '../cache/in-memory-token-cache.js';
import type { CacheHealth, OboTokenCache } from '../cache/obo-token-cache.js';
import type { ResolvedOboOptions } from '../config/resolve-options.js';
import { EntraHealthIndicator } from './entra-health.indicator.js';

// terminus 12.1's HealthIndicatorSession.up/degraded/down return `{ [key]: { ...data, status } }` and refuse a
// `status` in the data (node_modules/@nestjs/terminus/dist/health-indicator/health-indicator.service.js, compose):
// the results below are the details with the status added.
const NOW_MS = Date.UTC(2030, 0, 1, 12);
const FRESH_KEYS: SigningKeyStatus = { keyIds: ['kid-1', 'kid-2'], fetchedAtMs: NOW_MS - 90_000, stale: false, lastError: undefined, retryAfterSec: undefined };
const NO_KEYS: SigningKeyStatus = { keyIds: [], fetchedAtMs: undefined, stale: true, lastError: 'HTTP 503', retryAfterSec: 4 };

function verifierReporting(signingKeys: SigningKeyStatus, discovery: VerifierHealth['discovery'] = { fetchedAtMs: NOW_MS - 90_000, lastError: undefined }) {
  const health = jest.fn(async (): Promise<VerifierHealth> => ({ authorityHost: 'login.example.test', tenant: 'contoso.example', signingKeys, discovery }));
  return { verifier: { health } as unknown as AccessTokenVerifier, health };
}

function indicator(verifier: AccessTokenVerifier, cache: OboTokenCache): EntraHealthIndicator {
  return new EntraHealthIndicator(new HealthIndicatorService(), verifier, cache, { clock: { nowMs: () => NOW_MS } } as ResolvedOboOptions);
}

/** A cache whose store is up or down, as a RedisTokenCache reports it. */
function sharedCache(available: boolean): OboTokenCache {
  const cache = new InMemoryTokenCache();
  cache.health = (): CacheHealth => ({ available, details: { backend: 'redis', breaker: available ? 'closed' : 'open' } });
  return cache;
}

describe('EntraHealthIndicator', () => {
  it('is up with keys loaded and fresh, naming key ids, times and the authority host', async () => {
    const { verifier, health } = verifierReporting(FRESH_KEYS);
    const result = await indicator(verifier, new InMemoryTokenCache({ maxEntries: 5 })).isHealthy('entra');
    expect(result).toEqual({
      entra: {
        status: 'up',
        authorityHost: 'login.example.test',
        tenant: 'contoso.example',
        signingKeys: { loaded: true, keyIds: ['kid-1', 'kid-2'], fetchedAt: '2030-01-01T11:58:30.000Z', ageSec: 90 },
        discovery: { fetchedAt: '2030-01-01T11:58:30.000Z' },
        cache: { backend: 'memory', entries: 0, maxEntries: 5, available: true, reported: true },
      },
    });
    expect(health).toHaveBeenCalledTimes(1);
  });

  it('is down when no signing key ever loaded, and says why', async () => {
    const { verifier } = verifierReporting(NO_KEYS, { fetchedAtMs: undefined, lastError: 'The identity provider could not be reached for its discovery document.' });
    const result = await indicator(verifier, new InMemoryTokenCache()).isHealthy('entra');
    expect(result.entra.status).toBe('down');
    expect(result.entra.signingKeys).toEqual({ loaded: false, keyIds: [], lastError: 'HTTP 503', retryAfterSec: 4 });
    expect(result.entra.problems).toEqual([
      'No signing keys loaded from login.example.test (HTTP 503): tokens cannot be validated',
      'Fetching the discovery document failed (The identity provider could not be reached for its discovery document.)',
    ]);
  });

  it('is degraded, not down, when the shared cache store does not answer', async () => {
    const { verifier } = verifierReporting(FRESH_KEYS);
    const result = await indicator(verifier, sharedCache(false)).isHealthy('entra');
    expect(result.entra.status).toBe('degraded');
    expect(result.entra.cache).toEqual({ backend: 'redis', breaker: 'open', available: false, reported: true });
    expect(result.entra.problems).toEqual(['The token cache store does not answer; tokens are served from memory and Entra']);
    expect((await indicator(verifier, sharedCache(true)).isHealthy('entra')).entra.status).toBe('up');
  });

  it('is degraded when the last key refresh failed but the last good keys are in use', async () => {
    const { verifier } = verifierReporting({ ...FRESH_KEYS, stale: true, lastError: 'fetch failed', retryAfterSec: 2 });
    const result = await indicator(verifier, new InMemoryTokenCache()).isHealthy('entra');
    expect(result.entra.status).toBe('degraded');
    expect(result.entra.problems).toEqual(['Refreshing the signing keys failed (fetch failed); the last good keys are in use']);
  });

  it('reports a custom cache without health() as unreported, and one whose health() throws as unavailable, hiding its message', async () => {
    const { verifier } = verifierReporting(FRESH_KEYS);
    const bare = { get: () => undefined, set: () => undefined, delete: () => undefined } as unknown as OboTokenCache;
    expect((await indicator(verifier, bare).isHealthy('entra')).entra).toMatchObject({ status: 'up', cache: { reported: false } });
    const throwing = { ...bare, health: () => Promise.reject(new Error('redis://user:hunter2@cache:6379 refused')) } as unknown as OboTokenCache;
    const result = await indicator(verifier, throwing).isHealthy('entra');
    expect(result.entra).toMatchObject({ status: 'degraded', cache: { available: false, healthError: true, reported: true } });
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });

  it('uses the key it is given, as terminus results are keyed', async () => {
    const { verifier } = verifierReporting(FRESH_KEYS);
    expect(Object.keys(await indicator(verifier, new InMemoryTokenCache()).isHealthy('identity'))).toEqual(['identity']);
  });
});
