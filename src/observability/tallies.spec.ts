import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { countCacheHit, countCacheMiss, countRejection, tallySnapshot } from './tallies.js';

/** Exports only when the test collects: no timer runs. */
class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

describe('tallies, reported through OpenTelemetry observable counters', () => {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });

  beforeAll(() => metrics.setGlobalMeterProvider(provider));
  afterAll(async () => {
    await provider.shutdown();
    metrics.disable();
  });

  async function collect(name: string): Promise<MetricData | undefined> {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((data) => data.descriptor.name === name);
  }

  /** The API loads in the background on the first miss; its registration lands within a few turns of the event loop. */
  async function collectOnceRegistered(name: string): Promise<MetricData | undefined> {
    for (let turn = 0; turn < 50; turn += 1) {
      const data = await collect(name);
      if (data) return data;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return undefined;
  }

  it('counts plain integers, and reports nothing until something other than a hit happened', async () => {
    countCacheHit('l1');
    countCacheHit('l1');
    expect(tallySnapshot().cacheLookups.l1).toEqual({ hits: 2, misses: 0 });
    // Hits alone never load the API nor register anything.
    await new Promise((resolve) => setImmediate(resolve));
    expect(await collect('entra_obo.cache.lookups')).toBeUndefined();
  });

  it('reports lookups per tier and result, cumulative, once a miss started reporting; an unused tier reports nothing', async () => {
    countCacheMiss('l1');
    const lookups = await collectOnceRegistered('entra_obo.cache.lookups');
    // The SDK's default aggregation for an observable counter is a sum (@opentelemetry/sdk-metrics,
    // build/src/view/Aggregation.js, DefaultAggregation), monotonic and, with the default reader, cumulative: the
    // totals observed are the series' values, so rate() applies in any backend.
    expect(lookups).toMatchObject({ dataPointType: DataPointType.SUM, isMonotonic: true });
    expect(lookups?.descriptor.unit).toBe('{lookup}');
    expect(lookups?.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    expect(lookups?.dataPoints.map(({ attributes, value }) => ({ attributes, value }))).toEqual([
      { attributes: { tier: 'l1', result: 'hit' }, value: 2 },
      { attributes: { tier: 'l1', result: 'miss' }, value: 1 },
    ]);

    countCacheMiss('l2');
    countCacheHit('l2');
    countCacheHit('l1');
    const later = await collect('entra_obo.cache.lookups');
    expect(later?.dataPoints.map(({ attributes, value }) => ({ attributes, value }))).toEqual([
      { attributes: { tier: 'l1', result: 'hit' }, value: 3 },
      { attributes: { tier: 'l1', result: 'miss' }, value: 1 },
      { attributes: { tier: 'l2', result: 'hit' }, value: 1 },
      { attributes: { tier: 'l2', result: 'miss' }, value: 1 },
    ]);
  });

  it('reports rejections by reason code', async () => {
    countRejection('expired');
    countRejection('expired');
    countRejection('audience');
    const rejections = await collect('entra_obo.validation.rejections');
    expect(rejections?.dataPoints.map(({ attributes, value }) => ({ attributes, value }))).toEqual([
      { attributes: { reason: 'expired' }, value: 2 },
      { attributes: { reason: 'audience' }, value: 1 },
    ]);
  });
});
