import { randomUUID } from 'node:crypto';
import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { DownstreamToken, OboAuthGuard, OboModule, type AcquiredToken } from '../../src/index.js';
import { JWT_BEARER_GRANT, userToken } from './support/http-calls.js';
import { startNestApp } from './support/nest-app.js';
import { useTelemetry } from './support/telemetry.js';
import { ADAPTERS, DOWNSTREAM_READ, middleTierOptions } from './support/test-app.js';
import { useEmulator } from '../support/emulator.js';

@Controller()
class TelemetryController {
  @Get('downstream')
  @UseGuards(OboAuthGuard)
  downstream(@DownstreamToken({ scopes: DOWNSTREAM_READ, result: true }) token: AcquiredToken) {
    return { fromCache: token.fromCache };
  }
}

describe.each(ADAPTERS)('OpenTelemetry metrics and spans on %s', (adapter) => {
  const entra = useEmulator();
  const { spans, metric } = useTelemetry();
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    @Module({ imports: [OboModule.forRoot(middleTierOptions(entra, { timeoutMs: 20_000, retries: 0 }))], controllers: [TelemetryController] })
    class TelemetryAppModule {}
    ({ app, url } = await startNestApp(TelemetryAppModule, adapter));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('counts a miss, times it and traces it; a hit records nothing; nothing names the user or a token', async () => {
    const token = await userToken(entra);
    const correlationId = randomUUID();
    spans.reset();
    expect((await fetch(`${url}/downstream`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': correlationId } })).status).toBe(200);
    expect((await fetch(`${url}/downstream`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    const acquisitions = await metric('entra_obo.token.acquisitions');
    expect(acquisitions?.dataPoints).toEqual([expect.objectContaining({ attributes: { flow: 'obo', outcome: 'success' }, value: 1 })]);
    const duration = await metric('entra_obo.token.duration');
    expect(duration?.descriptor.unit).toBe('s');
    expect(duration?.dataPoints).toEqual([expect.objectContaining({ attributes: { flow: 'obo' }, value: expect.objectContaining({ count: 1 }) })]);

    const finished = spans.getFinishedSpans();
    expect(finished.map((span) => span.name)).toEqual(['entra_obo.acquire_token']);
    expect(finished[0]!.attributes).toEqual({
      'entra_obo.flow': 'obo',
      'entra_obo.tenant_id': entra.defaults.tenants.primary.id,
      'entra_obo.scopes': DOWNSTREAM_READ,
      'entra_obo.correlation_id': correlationId,
      'entra_obo.attempts': 1,
    });
    const everything = JSON.stringify([finished[0]!.attributes, acquisitions?.dataPoints, duration?.dataPoints]);
    expect(everything).not.toContain(entra.defaults.users.member.id);
    expect(everything).not.toContain(token.split('.')[1]!);
  });

  /** The value of one data point of an observable counter (cumulative since the process started), 0 when absent. */
  async function pointValue(name: string, attributes: Record<string, string>): Promise<number> {
    const data = await metric(name);
    const point = data?.dataPoints.find((candidate) => JSON.stringify(candidate.attributes) === JSON.stringify(attributes));
    return typeof point?.value === 'number' ? point.value : 0;
  }

  it('counts cache lookups per tier and result, and refused tokens by reason, at collection time', async () => {
    const token = await userToken(entra);
    // Counters are process-wide and cumulative (the other adapter's run adds to them): compare against before.
    const before = { hit: await pointValue('entra_obo.cache.lookups', { tier: 'l1', result: 'hit' }), miss: await pointValue('entra_obo.cache.lookups', { tier: 'l1', result: 'miss' }) };
    expect((await fetch(`${url}/downstream`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${url}/downstream`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${url}/downstream`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const lookups = await metric('entra_obo.cache.lookups');
    expect(lookups).toMatchObject({ dataPointType: DataPointType.SUM, isMonotonic: true });
    // The first request misses (and may look again inside its single flight before asking Entra); the next two hit.
    expect((await pointValue('entra_obo.cache.lookups', { tier: 'l1', result: 'hit' })) - before.hit).toBe(2);
    expect((await pointValue('entra_obo.cache.lookups', { tier: 'l1', result: 'miss' })) - before.miss).toBeGreaterThanOrEqual(1);
    // No Redis here: the l2 tier reports nothing.
    expect(lookups?.dataPoints.some((point) => point.attributes.tier === 'l2')).toBe(false);

    const { apps } = entra.defaults;
    const otherAudience = await userToken(entra, entra.defaults.users.member, { resource: apps.downstreamApi.app, scopes: ['Profile.Read'] });
    const rejectedBefore = { audience: await pointValue('entra_obo.validation.rejections', { reason: 'audience' }), malformed: await pointValue('entra_obo.validation.rejections', { reason: 'malformed' }) };
    expect((await fetch(`${url}/downstream`, { headers: { authorization: `Bearer ${otherAudience}` } })).status).toBe(401);
    expect((await fetch(`${url}/downstream`, { headers: { authorization: `Bearer ${otherAudience}` } })).status).toBe(401);
    expect((await fetch(`${url}/downstream`, { headers: { authorization: 'Bearer abc.def.ghi' } })).status).toBe(401);
    expect((await pointValue('entra_obo.validation.rejections', { reason: 'audience' })) - rejectedBefore.audience).toBe(2);
    expect((await pointValue('entra_obo.validation.rejections', { reason: 'malformed' })) - rejectedBefore.malformed).toBe(1);
    const rejections = await metric('entra_obo.validation.rejections');
    const everything = JSON.stringify([lookups?.dataPoints, rejections?.dataPoints]);
    expect(everything).not.toContain(entra.defaults.users.member.id);
    expect(everything).not.toContain(apps.downstreamApi.app.clientId);
  });

  it('counts a failure by its error code and marks the span', async () => {
    spans.reset();
    entra.faults.inject({ type: 'throttle', retryAfterSec: 5 }, { grantType: JWT_BEARER_GRANT });
    expect((await fetch(`${url}/downstream`, { headers: { authorization: `Bearer ${await userToken(entra)}` } })).status).toBe(503);
    const acquisitions = await metric('entra_obo.token.acquisitions');
    expect(acquisitions?.dataPoints).toContainEqual(expect.objectContaining({ attributes: { flow: 'obo', outcome: 'identity_provider_unavailable' }, value: 1 }));
    const [span] = spans.getFinishedSpans();
    expect(span?.attributes['entra_obo.error_code']).toBe('identity_provider_unavailable');
    expect(span?.status.code).toBe(2); // SpanStatusCode.ERROR
  });
});
