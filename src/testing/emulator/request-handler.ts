import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { findEndpoint, formReader, sendNotFound, type EmulatorEndpoint, type EndpointDependencies, type EndpointExchange, type FaultableEndpoint } from './endpoints.js';
import { EntraProtocolError, entraErrorBody, entraErrors } from './entra-errors.js';
import type { EmulatorFault, FaultQueue } from './faults.js';
import { GRAPH_PATH_SEGMENT } from './graph-endpoint.js';
import { BodyTooLargeError, sendJson, sendText } from './http.js';
import type { RecordedRequest, RequestLog } from './request-log.js';
import type { EmulatorServices } from './services.js';

/** Entra names the server build that answered; clients log it, none parses it. */
const ESTS_SERVER = '2.1.0.0 - LOCAL Entra ID emulator';

/**
 * The emulator's HTTP side: routes each request to its row of the endpoint table (`endpoints.ts`), records every
 * request, answers with queued faults, and turns failures into Entra-shaped error responses so a bad request never
 * crashes the server.
 */
export class EmulatorRequestHandler {
  private readonly services: EmulatorServices;

  constructor(
    private readonly dependencies: EndpointDependencies,
    private readonly faults: FaultQueue,
    private readonly log: RequestLog,
  ) {
    this.services = dependencies.services;
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.services.authorityHost);
    const segments = url.pathname.split('/').filter(Boolean);
    const entry = this.log.record(request.method ?? 'GET', url, this.services.clock.nowMs());
    response.on('finish', () => (entry.status = response.statusCode));
    const correlationId = request.headers['client-request-id']?.toString() ?? url.searchParams.get('client-request-id') ?? undefined;
    // Every Entra response names itself: x-ms-request-id (the trace_id of an error body) and the server build.
    const requestId = randomUUID();
    entry.requestId = requestId;
    response.setHeader('x-ms-request-id', requestId);
    response.setHeader('x-ms-ests-server', ESTS_SERVER);
    try {
      await this.route(request, response, url, segments, entry, correlationId);
    } catch (error) {
      const failure =
        error instanceof EntraProtocolError
          ? error
          : error instanceof BodyTooLargeError
            ? entraErrors.malformedRequest(`${error.message}.`)
            : new EntraProtocolError('server_error', 50000, 'There was an error issuing a token.', { status: 500 });
      if (!response.headersSent) this.sendError(response, failure, correlationId);
      else response.destroy();
    }
  }

  private async route(request: IncomingMessage, response: ServerResponse, url: URL, segments: string[], entry: RecordedRequest, correlationId: string | undefined): Promise<void> {
    const [tenantSegment = '', ...rest] = segments;
    const method = request.method ?? 'GET';
    const exchange: EndpointExchange = { request, response, url, method, tenantSegment, path: rest.join('/'), entry, correlationId, form: formReader(request) };
    // The Graph stand-in is not a tenant: its requests are logged without one.
    entry.tenant = tenantSegment === GRAPH_PATH_SEGMENT ? '' : tenantSegment;
    const row = findEndpoint(method, segments);
    if (!row) return sendNotFound(exchange);
    // Nor are the emulator's own paths (`/health`, the page).
    if (!row.paths.some((path) => path.startsWith('/{tenant}/'))) entry.tenant = '';
    entry.endpoint = row.name as EmulatorEndpoint;
    await row.describe?.(exchange);
    if (row.faultable && (await this.applyFault(response, entry, { endpoint: row.name as FaultableEndpoint, grantType: entry.grantType, clientId: entry.clientId }))) return;
    await row.handle(exchange, this.dependencies);
  }

  /** Answers with the next queued fault for this request, if any; true when the response has been taken over. */
  private async applyFault(response: ServerResponse, entry: RecordedRequest, candidate: { endpoint: FaultableEndpoint; grantType?: string | undefined; clientId?: string | undefined }): Promise<boolean> {
    const fault = this.faults.take(candidate);
    if (!fault) return false;
    entry.fault = fault.type;
    return this.answerWithFault(response, fault, entry.correlationId);
  }

  private async answerWithFault(response: ServerResponse, fault: EmulatorFault, correlationId: string | undefined): Promise<boolean> {
    switch (fault.type) {
      case 'delay':
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        return response.destroyed;
      case 'reset':
        response.socket?.destroy();
        return true;
      case 'malformed-json':
        sendText(response, 200, '{"token_type":"Bearer","access_token":"eyJ0eXAiOiJKV1Qi', { 'content-type': 'application/json; charset=utf-8' });
        return true;
      case 'throttle': {
        const retryAfter = String(fault.retryAfterSec ?? 30);
        if ((fault.body ?? 'text') === 'text') {
          sendText(response, 429, 'Too Many Requests', { 'retry-after': retryAfter });
        } else {
          const failure = new EntraProtocolError('temporarily_unavailable', 90055, 'There are too many incoming requests. Please try again later.', { status: 429 });
          this.sendError(response, failure, correlationId, { 'retry-after': retryAfter });
        }
        return true;
      }
      case 'server-error': {
        const status = fault.status ?? 503;
        this.sendError(response, entraErrors.temporarilyUnavailable(status), correlationId, fault.retryAfterSec !== undefined ? { 'retry-after': String(fault.retryAfterSec) } : {});
        return true;
      }
    }
  }

  private sendError(response: ServerResponse, failure: EntraProtocolError, correlationId: string | undefined, headers: Record<string, string> = {}): void {
    const traceId = response.getHeader('x-ms-request-id');
    const body = entraErrorBody(failure, { correlationId, nowMs: this.services.clock.nowMs(), errorUriBase: this.services.authorityHost, ...(typeof traceId === 'string' ? { traceId } : {}) });
    sendJson(response, failure.status, body, { ...headers, ...(correlationId ? { 'client-request-id': correlationId } : {}) });
  }
}
