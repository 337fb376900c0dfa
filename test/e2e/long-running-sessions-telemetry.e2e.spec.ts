import { Module, type INestApplication } from '@nestjs/common';
import { LongRunningSessionStore, OboModule, TokenAcquisitionService } from '../../src/index.js';
import { startNestApp } from './support/nest-app.js';
import { useTelemetry } from './support/telemetry.js';
import { ADAPTERS, DOWNSTREAM_READ, middleTierOptions } from './support/test-app.js';
import { useEmulator, userToken } from '../support/emulator.js';

// The `long_running` flow of entra_obo.token.acquisitions / entra_obo.token.duration and the entra_obo.acquire_token
// span (src/observability/open-telemetry.ts), read back through the OpenTelemetry SDK's in-memory exporters.

describe.each(ADAPTERS)('OpenTelemetry of long-running sessions on %s', (adapter) => {
  const entra = useEmulator();
  const { spans, metric } = useTelemetry();
  let app: INestApplication;

  beforeAll(async () => {
    @Module({ imports: [OboModule.forRoot(middleTierOptions(entra, { timeoutMs: 20_000, retries: 0 }))] })
    class TelemetryAppModule {}
    ({ app } = await startNestApp(TelemetryAppModule, adapter));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('counts the start and each refresh as flow long_running, with the refusal as its error code; nothing names a secret', async () => {
    const service = app.get(TokenAcquisitionService);
    const user = entra.defaults.users.member;
    const { sessionKey } = await service.startLongRunningSession(await userToken(entra, user), DOWNSTREAM_READ);
    const refreshToken = (await app.get(LongRunningSessionStore, { strict: false }).get(sessionKey))!.refreshToken;
    entra.clock.advanceSec(3 * 3600);
    await service.acquireTokenInLongRunningSession(sessionKey, DOWNSTREAM_READ);
    entra.revokeUserSessions(user);
    entra.clock.advanceSec(3 * 3600);
    await expect(service.acquireTokenInLongRunningSession(sessionKey, DOWNSTREAM_READ)).rejects.toMatchObject({ code: 'invalid_grant' });

    const acquisitions = await metric('entra_obo.token.acquisitions');
    expect(acquisitions?.dataPoints).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ attributes: { flow: 'long_running', outcome: 'success' }, value: 2 }),
        expect.objectContaining({ attributes: { flow: 'long_running', outcome: 'invalid_grant' }, value: 1 }),
      ]),
    );
    const duration = await metric('entra_obo.token.duration');
    expect(duration?.dataPoints).toEqual([expect.objectContaining({ attributes: { flow: 'long_running' }, value: expect.objectContaining({ count: 3 }) })]);
    const finished = spans.getFinishedSpans().filter((span) => span.attributes['entra_obo.flow'] === 'long_running');
    expect(finished).toHaveLength(3);
    expect(finished[2]!.attributes['entra_obo.error_code']).toBe('invalid_grant');

    const everything = JSON.stringify([finished.map((span) => span.attributes), acquisitions?.dataPoints, duration?.dataPoints]);
    for (const secret of [sessionKey, refreshToken, user.id]) expect(everything).not.toContain(secret);
  });
});
