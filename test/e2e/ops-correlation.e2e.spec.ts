import { randomUUID } from 'node:crypto';
import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { DownstreamToken, OboAuthGuard, OboModule, type AcquiredToken } from '../../src/index.js';
import { JWT_BEARER_GRANT, userToken } from './support/http-calls.js';
import { CapturingLogger } from './support/log-capture.js';
import { startNestApp } from './support/nest-app.js';
import { ADAPTERS, DOWNSTREAM_READ, middleTierOptions } from './support/test-app.js';
import { useEmulator } from '../support/emulator.js';

// An Entra error response carries `correlation_id`, "the correlation ID to be used for tracking the source of the
// error" (https://azuresdkdocs.z19.web.core.windows.net/javascript/azure-identity/4.10.1/interfaces/ErrorResponse.html,
// after https://learn.microsoft.com/azure/active-directory/develop/v1-protocols-oauth-code#error-response-1); it echoes
// the `client-request-id` MSAL sends as its `correlationId` (test/integration/msal-faults.spec.ts › "Entra's error
// echoes msal's client-request-id as correlation_id"). So an id the caller sent lines its logs up with Entra's.
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// The W3C example: https://www.w3.org/TR/trace-context/#examples-of-http-traceparent-headers
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACE_ID_AS_GUID = '4bf92f35-77b3-4da6-a3ce-929d0e0e4736';

@Controller()
class CorrelationController {
  @Get('downstream')
  @UseGuards(OboAuthGuard)
  downstream(@DownstreamToken({ scopes: DOWNSTREAM_READ, result: true }) token: AcquiredToken) {
    return { fromCache: token.fromCache, correlationId: token.correlationId };
  }
}

describe.each(ADAPTERS)('correlation ids on %s', (adapter) => {
  const entra = useEmulator();
  const logger = new CapturingLogger();
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    @Module({ imports: [OboModule.forRoot(middleTierOptions(entra, { timeoutMs: 20_000 }))], controllers: [CorrelationController] })
    class CorrelationAppModule {}
    ({ app, url } = await startNestApp(CorrelationAppModule, adapter, logger));
  });
  afterAll(async () => {
    await app?.close();
  });

  async function call(headers: Record<string, string>, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${url}/downstream`, { headers: { authorization: `Bearer ${token ?? (await userToken(entra))}`, ...headers } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const oboRequests = () => entra.tokenRequests({ grantType: JWT_BEARER_GRANT });

  it.each(['client-request-id', 'x-ms-client-request-id', 'x-request-id'])("sends a client's GUID %s to Entra, and returns it", async (header) => {
    const id = randomUUID();
    const answer = await call({ [header]: id.toUpperCase() });
    expect(answer).toEqual({ status: 200, body: { fromCache: false, correlationId: id } });
    expect(oboRequests().map((request) => request.correlationId)).toEqual([id]);
  });

  it("sends a traceparent's trace id, as a GUID", async () => {
    const answer = await call({ traceparent: TRACEPARENT });
    expect(answer.body.correlationId).toBe(TRACE_ID_AS_GUID);
    expect(oboRequests().map((request) => request.correlationId)).toEqual([TRACE_ID_AS_GUID]);
  });

  it("answers a cache hit with the original exchange's id, without a request to Entra", async () => {
    const token = await userToken(entra);
    const first = randomUUID();
    await call({ 'x-request-id': first }, token);
    expect(await call({ 'x-request-id': randomUUID() }, token)).toEqual({ status: 200, body: { fromCache: true, correlationId: first } });
    expect(oboRequests()).toHaveLength(1);
  });

  it('replaces an id that is not a GUID with a random one, and never logs it', async () => {
    const marker = `not-a-guid-${randomUUID().slice(0, 8)}`;
    logger.lines.length = 0;
    const answer = await call({ 'x-request-id': marker });
    const sent = oboRequests().map((request) => request.correlationId);
    expect(sent).toEqual([answer.body.correlationId]);
    expect(sent[0]).toMatch(GUID);
    expect(logger.lines.filter((line) => line.text.includes(marker))).toEqual([]);
  });

  it("names the client's id in the log line of a failed exchange", async () => {
    const id = randomUUID();
    logger.lines.length = 0;
    entra.faults.inject({ type: 'throttle', retryAfterSec: 7 }, { grantType: JWT_BEARER_GRANT });
    const answer = await call({ 'x-ms-client-request-id': id });
    expect(answer.status).toBe(503);
    expect(oboRequests().map((request) => request.correlationId)).toEqual([id]);
    expect(logger.lines.filter((line) => line.level === 'warn' && line.text.includes(`correlation ${id}`))).toHaveLength(1);
    // The client already knows its id; the body names none (error bodies carry no Entra details).
    expect(JSON.stringify(answer.body)).not.toContain(id);
  });
});

describe.each(ADAPTERS)('correlationHeaders on %s', (adapter) => {
  const entra = useEmulator();
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    @Module({ imports: [OboModule.forRoot(middleTierOptions(entra, { timeoutMs: 20_000, correlationHeaders: ['X-Correlation-ID'] }))], controllers: [CorrelationController] })
    class ConfiguredHeaderModule {}
    ({ app, url } = await startNestApp(ConfiguredHeaderModule, adapter));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('reads the configured header only', async () => {
    const id = randomUUID();
    const ignored = randomUUID();
    const response = await fetch(`${url}/downstream`, { headers: { authorization: `Bearer ${await userToken(entra)}`, 'x-correlation-id': id, 'x-request-id': ignored } });
    expect(((await response.json()) as { correlationId: string }).correlationId).toBe(id);
    expect(entra.tokenRequests({ grantType: JWT_BEARER_GRANT }).map((request) => request.correlationId)).toEqual([id]);
  });
});
