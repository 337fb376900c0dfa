import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { matchesRegisteredUri, type AuthorizeEndpoint, type AuthorizeOutcome } from './authorize-endpoint.js';
import { EntraProtocolError, entraErrorBody, entraErrors } from './entra-errors.js';
import type { EmulatorFault, FaultableEndpoint, FaultQueue } from './faults.js';
import { GRAPH_PATH_SEGMENT, type GraphEndpoint } from './graph-endpoint.js';
import { basicCredentials, BodyTooLargeError, parseFormBody, readBody, redirect, sendHtml, sendJson, sendMetadata, sendText } from './http.js';
import { instanceDiscovery, jsonWebKeySet, openIdConfiguration } from './metadata.js';
import type { RecordedRequest, RequestLog } from './request-log.js';
import type { EmulatorServices } from './services.js';
import { signedOutPage } from './sign-in-pages.js';
import type { SigningKeyRing } from './signing-keys.js';
import { handleTokenRequest, resolveTenantSegment, v1ParamsAsV2, v2ResponseAsV1 } from './token-endpoint.js';

/** Entra names the server build that answered; clients log it, none parses it. */
const ESTS_SERVER = '2.1.0.0 - LOCAL Entra ID emulator';

/**
 * The emulator's HTTP side: routes Entra's paths to their endpoints, records every request, answers with queued
 * faults, and turns failures into Entra-shaped error responses so a bad request never crashes the server.
 */
export class EmulatorRequestHandler {
  constructor(
    private readonly services: EmulatorServices,
    private readonly keys: SigningKeyRing,
    private readonly authorize: AuthorizeEndpoint,
    private readonly graph: GraphEndpoint,
    private readonly faults: FaultQueue,
    private readonly log: RequestLog,
    private readonly graphBaseUrl: string,
  ) {}

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
    const path = rest.join('/');
    entry.tenant = tenantSegment;
    const method = request.method ?? 'GET';

    if (tenantSegment === GRAPH_PATH_SEGMENT) {
      entry.endpoint = 'graph';
      entry.tenant = '';
      const answer = await this.graph.handle(method, path, request.headers.authorization, correlationId);
      if (answer) return sendJson(response, answer.status, answer.body, answer.headers);
    }
    if (method === 'GET' && path === 'discovery/instance') {
      entry.endpoint = 'instance-discovery';
      return sendMetadata(response, instanceDiscovery(this.services, url.searchParams.get('authorization_endpoint')));
    }
    if (method === 'GET' && (path === 'v2.0/.well-known/openid-configuration' || path === '.well-known/openid-configuration')) {
      entry.endpoint = 'discovery';
      if (await this.applyFault(response, entry, { endpoint: 'discovery' })) return;
      const tenantId = resolveTenantSegment(tenantSegment, this.services);
      return sendMetadata(response, openIdConfiguration(this.services, tenantSegment, tenantId, path.startsWith('v2.0') ? 2 : 1, this.graphBaseUrl));
    }
    if (method === 'GET' && (path === 'discovery/v2.0/keys' || path === 'discovery/keys')) {
      entry.endpoint = 'jwks';
      if (await this.applyFault(response, entry, { endpoint: 'jwks' })) return;
      const tenantId = resolveTenantSegment(tenantSegment, this.services);
      return sendMetadata(response, jsonWebKeySet(this.services, this.keys, tenantId, path === 'discovery/v2.0/keys' ? 2 : 1));
    }
    const v1 = path === 'oauth2/authorize' || path === 'oauth2/token' || path === 'oauth2/logout';
    if ((path === 'oauth2/v2.0/authorize' || path === 'oauth2/authorize') && (method === 'GET' || method === 'POST')) {
      entry.endpoint = 'authorize';
      const outcome =
        method === 'GET'
          ? await this.authorize.begin(tenantSegment, v1 ? v1ParamsAsV2(url.searchParams) : url.searchParams)
          : await this.authorize.continue(parseFormBody(request, await readBody(request)));
      return this.sendAuthorizeOutcome(response, outcome);
    }
    if ((path === 'oauth2/v2.0/token' || path === 'oauth2/token') && method === 'POST') {
      entry.endpoint = 'token';
      const received = parseFormBody(request, await readBody(request));
      const params = v1 ? v1ParamsAsV2(received) : received;
      entry.grantType = params.get('grant_type') ?? undefined;
      entry.clientId = (params.get('client_id') ?? basicCredentials(request)?.clientId)?.toLowerCase();
      entry.scope = params.get('scope') ?? undefined;
      entry.correlationId = correlationId;
      if (await this.applyFault(response, entry, { endpoint: 'token', grantType: entry.grantType, clientId: entry.clientId })) return;
      const body = await handleTokenRequest(request, params, tenantSegment, this.services);
      const answer = v1 ? v2ResponseAsV1(body, received.get('resource'), this.services.clock.nowSec()) : body;
      return sendJson(response, 200, answer, correlationId ? { 'client-request-id': correlationId } : {});
    }
    if ((path === 'oauth2/v2.0/logout' || path === 'oauth2/logout') && method === 'GET') {
      entry.endpoint = 'logout';
      const target = url.searchParams.get('post_logout_redirect_uri');
      // Entra redirects only to a post-logout URI registered on the app (any app, when the request names none).
      if (target && this.isRegisteredPostLogoutUri(target, url.searchParams.get('client_id'))) return redirect(response, target);
      return sendHtml(response, 200, signedOutPage());
    }
    entry.endpoint = 'unknown';
    sendJson(response, 404, { error: 'not_found', error_description: `The emulator has no ${method} ${url.pathname}` });
  }

  private isRegisteredPostLogoutUri(target: string, clientId: string | null): boolean {
    const apps = clientId ? [this.services.directory.findApp(clientId)].filter((app) => app !== undefined) : this.services.directory.apps;
    return apps.some((app) => matchesRegisteredUri(app.postLogoutRedirectUris, target));
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

  private sendAuthorizeOutcome(response: ServerResponse, outcome: AuthorizeOutcome): void {
    if (outcome.kind === 'redirect') redirect(response, outcome.location);
    else sendHtml(response, outcome.status, outcome.html);
  }
}
