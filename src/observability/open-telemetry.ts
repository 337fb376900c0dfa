import type * as OpenTelemetryApi from '@opentelemetry/api';

// The one file that touches `@opentelemetry/api`, an optional peer: loaded on the first token request that goes to
// Entra, cache miss or refused token (tallies.ts), never on a cache hit. Without it installed, or with no SDK
// registered, everything here is a no-op.

type Api = typeof OpenTelemetryApi;
export type AcquisitionFlow = 'obo' | 'app' | 'long_running';

const INSTRUMENTATION_SCOPE = 'nestjs-entra-obo';

interface Instruments {
  provider: OpenTelemetryApi.MeterProvider;
  acquisitions: OpenTelemetryApi.Counter;
  duration: OpenTelemetryApi.Histogram;
}

/** What tallies.ts counts, read at collection time: cumulative totals, so they are reported as observable counters. */
export interface TallyReadings {
  cacheLookups(): Iterable<{ tier: 'l1' | 'l2'; result: 'hit' | 'miss'; value: number }>;
  rejections(): Iterable<[reason: string, value: number]>;
}

let loading: Promise<Api | undefined> | undefined;
let instruments: Instruments | undefined;
let tallies: TallyReadings | undefined;
/** The provider the observable counters are registered on, so none is registered twice. */
let talliesProvider: OpenTelemetryApi.MeterProvider | undefined;

function loadApi(): Promise<Api | undefined> {
  return (loading ??= import('@opentelemetry/api').then(
    (api) => api as Api,
    () => undefined,
  ));
}

/**
 * The instruments of the meter provider registered now: an SDK may be registered after the first exchange, and the
 * API's no-op provider hands out no-op instruments that never switch over, so they are made again when it changes.
 */
function instrumentsOf(api: Api): Instruments {
  const provider = api.metrics.getMeterProvider();
  if (instruments?.provider === provider) return instruments;
  const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
  instruments = {
    provider,
    acquisitions: meter.createCounter('entra_obo.token.acquisitions', { description: 'Token requests to Entra ID (cache misses), by flow and outcome' }),
    duration: meter.createHistogram('entra_obo.token.duration', { unit: 's', description: 'Time to acquire a token from Entra ID, retries included' }),
  };
  observeTalliesOn(provider);
  return instruments;
}

/**
 * Registers the observable counters on `meter`: the SDK calls them at collection, so counting stays an integer
 * increment where the lookup or the refusal happens. Attributes are fixed sets: a tier and hit/miss, a reason code.
 */
function observeTalliesOn(provider: OpenTelemetryApi.MeterProvider): void {
  const readings = tallies;
  if (!readings || talliesProvider === provider) return;
  talliesProvider = provider;
  const meter = provider.getMeter(INSTRUMENTATION_SCOPE);
  meter.createObservableCounter('entra_obo.cache.lookups', { unit: '{lookup}', description: 'Token cache lookups, by tier (l1 in process, l2 Redis) and result' }).addCallback((result) => {
    for (const { tier, result: outcome, value } of readings.cacheLookups()) result.observe(value, { tier, result: outcome });
  });
  meter.createObservableCounter('entra_obo.validation.rejections', { unit: '{token}', description: 'Access tokens refused, by reason code' }).addCallback((result) => {
    for (const [reason, value] of readings.rejections()) result.observe(value, { reason });
  });
}

/**
 * Starts reporting what tallies.ts counts: loads the API (once) and registers the observable counters on the meter
 * provider registered now; a provider registered later gets them with the first token request after it.
 */
export function reportTallies(readings: TallyReadings): void {
  if (tallies) return;
  tallies = readings;
  void loadApi().then((api) => api && observeTalliesOn(api.metrics.getMeterProvider()));
}

/** What an acquisition tells its span while it runs: each attempt's correlation id. */
export interface AcquisitionProgress {
  attempt(correlationId: string): void;
}

/**
 * Runs one acquisition from Entra (`run`) as a span `entra_obo.acquire_token` (tenant, scopes, the last attempt's
 * correlation id, attempts, error code) and records `entra_obo.token.acquisitions` {flow, outcome} and
 * `entra_obo.token.duration` {flow}. Attributes name no token, secret or user: the tenant and scopes are the API's
 * configuration, the correlation id is a random or caller-chosen GUID, the outcome an error code.
 */
export async function observeAcquisition<T>(flow: AcquisitionFlow, context: { tenantId: string; scopes: readonly string[] }, run: (progress: AcquisitionProgress) => Promise<T>): Promise<T> {
  const api = await loadApi();
  if (!api) return run({ attempt: () => undefined });
  const tracer = api.trace.getTracer(INSTRUMENTATION_SCOPE);
  return tracer.startActiveSpan('entra_obo.acquire_token', { kind: api.SpanKind.CLIENT, attributes: { 'entra_obo.flow': flow, 'entra_obo.tenant_id': context.tenantId, 'entra_obo.scopes': context.scopes.join(' ') } }, async (span) => {
    const startedAt = performance.now();
    let attempts = 0;
    const finish = (outcome: string) => {
      const { acquisitions, duration } = instrumentsOf(api);
      acquisitions.add(1, { flow, outcome });
      duration.record((performance.now() - startedAt) / 1000, { flow });
      span.setAttribute('entra_obo.attempts', attempts);
      span.end();
    };
    try {
      const result = await run({
        attempt: (correlationId) => {
          attempts += 1;
          span.setAttribute('entra_obo.correlation_id', correlationId);
        },
      });
      span.setStatus({ code: api.SpanStatusCode.OK });
      finish('success');
      return result;
    } catch (error) {
      const code = errorCodeOf(error);
      span.setAttribute('entra_obo.error_code', code);
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: code });
      finish(code);
      throw error;
    }
  });
}

/** The library's error code (`invalid_grant`, `identity_provider_unavailable`, ...), never a message. */
function errorCodeOf(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  return typeof code === 'string' && /^[a-z_]{1,64}$/.test(code) ? code : 'unknown_error';
}
