import type { IncomingMessage, ServerResponse } from 'node:http';
import { matchesRegisteredUri, type AuthorizeEndpoint, type AuthorizeOutcome } from './authorize-endpoint.js';
import type { GraphEndpoint } from './graph-endpoint.js';
import { basicCredentials, parseFormBody, readBody, redirect, sendHtml, sendJson, sendMetadata } from './http.js';
import { instanceDiscovery, jsonWebKeySet, openIdConfiguration } from './metadata.js';
import type { FaultQueue } from './faults.js';
import type { RecordedRequest, RequestLog } from './request-log.js';
import { statusPage } from './status-page.js';
import type { EmulatorServices } from './services.js';
import { signedOutPage } from './sign-in-pages.js';
import type { SigningKeyRing } from './signing-keys.js';
import { handleTokenRequest, resolveTenantSegment, v1ParamsAsV2, v2ResponseAsV1 } from './token-endpoint.js';

/** What the endpoints answer with: the emulator's state and its sub-endpoints. */
export interface EndpointDependencies {
  readonly services: EmulatorServices;
  readonly faults: FaultQueue;
  readonly log: RequestLog;
  readonly keys: SigningKeyRing;
  readonly authorize: AuthorizeEndpoint;
  readonly graph: GraphEndpoint;
  readonly graphBaseUrl: string;
}

/** One request on its way through the table. */
export interface EndpointExchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly url: URL;
  readonly method: string;
  /** The first path segment: a tenant (GUID, domain, `common`, …) or `graph`. */
  readonly tenantSegment: string;
  /** The path after the first segment, without a leading slash (`oauth2/v2.0/token`). */
  readonly path: string;
  readonly entry: RecordedRequest;
  readonly correlationId: string | undefined;
  /** The form body, read once however often it is asked for. */
  form(): Promise<URLSearchParams>;
}

type HttpMethod = 'GET' | 'POST';

interface EndpointRow {
  readonly name: string;
  readonly methods: readonly HttpMethod[];
  /** Path templates; `{tenant}` stands for any one segment. */
  readonly paths: readonly string[];
  /** Whether `faults.inject({ endpoint })` can name it: the fault answers instead of the handler. */
  readonly faultable: boolean;
  /** Fills the log entry with what fault matching reads (the token request's grant and client), before a fault. */
  readonly describe?: (exchange: EndpointExchange) => Promise<void>;
  readonly handle: (exchange: EndpointExchange, dependencies: EndpointDependencies) => Promise<void> | void;
}

/** The v1 endpoints (`/oauth2/token`, …) take v1 parameters; everything else is v2. */
const isV1 = (exchange: EndpointExchange): boolean => !exchange.path.includes('v2.0');

async function tokenParams(exchange: EndpointExchange): Promise<URLSearchParams> {
  const received = await exchange.form();
  return isV1(exchange) ? v1ParamsAsV2(received) : received;
}

function sendAuthorizeOutcome(response: ServerResponse, outcome: AuthorizeOutcome): void {
  if (outcome.kind === 'redirect') redirect(response, outcome.location);
  else sendHtml(response, outcome.status, outcome.html);
}

function isRegisteredPostLogoutUri(services: EmulatorServices, target: string, clientId: string | null): boolean {
  const apps = clientId ? [services.directory.findApp(clientId)].filter((app) => app !== undefined) : services.directory.apps;
  return apps.some((app) => matchesRegisteredUri(app.postLogoutRedirectUris, target));
}

/** The answer to a path (or method) the emulator does not serve. */
export function sendNotFound(exchange: Pick<EndpointExchange, 'response' | 'method' | 'url'>): void {
  sendJson(exchange.response, 404, { error: 'not_found', error_description: `The emulator has no ${exchange.method} ${exchange.url.pathname}` });
}

/**
 * Every endpoint the emulator answers, in the order they are matched. A new endpoint is one row: its name joins
 * `EmulatorEndpoint` (and `FaultableEndpoint` when faultable) by itself, and the discovery documents may only
 * advertise what a row answers (test/integration/emulator-endpoints.spec.ts walks them).
 */
export const EMULATOR_ENDPOINTS = [
  {
    // What the emulator holds and received, for a person watching a test run (status-page.ts).
    name: 'page',
    methods: ['GET'],
    paths: ['/'],
    faultable: false,
    handle(exchange, { services, faults, log }) {
      const { directory, policies, authorityHost } = services;
      const html = statusPage({ authorityHost, directory, policies, faults: faults.queued, requests: log.entries(), showSecrets: exchange.url.searchParams.get('secrets') === 'show' });
      sendHtml(exchange.response, 200, html);
    },
  },
  {
    // For a container's health check (docker-compose `healthcheck`, a readiness probe): answers once it serves.
    name: 'health',
    methods: ['GET'],
    paths: ['/health'],
    faultable: false,
    handle(exchange) {
      sendJson(exchange.response, 200, { status: 'ok' });
    },
  },
  {
    name: 'graph',
    methods: ['GET', 'POST'],
    paths: ['/graph/v1.0/me', '/graph/oidc/userinfo'],
    faultable: false,
    async handle(exchange, { graph }) {
      const answer = await graph.handle(exchange.method, exchange.path, exchange.request.headers.authorization, exchange.correlationId);
      if (!answer) return sendNotFound(exchange);
      sendJson(exchange.response, answer.status, answer.body, answer.headers);
    },
  },
  {
    name: 'instance-discovery',
    methods: ['GET'],
    paths: ['/{tenant}/discovery/instance'],
    faultable: false,
    handle(exchange, { services }) {
      sendMetadata(exchange.response, instanceDiscovery(services, exchange.url.searchParams.get('authorization_endpoint')));
    },
  },
  {
    name: 'discovery',
    methods: ['GET'],
    paths: ['/{tenant}/v2.0/.well-known/openid-configuration', '/{tenant}/.well-known/openid-configuration'],
    faultable: true,
    handle(exchange, { services, graphBaseUrl }) {
      const tenantId = resolveTenantSegment(exchange.tenantSegment, services);
      sendMetadata(exchange.response, openIdConfiguration(services, exchange.tenantSegment, tenantId, isV1(exchange) ? 1 : 2, graphBaseUrl));
    },
  },
  {
    name: 'jwks',
    methods: ['GET'],
    paths: ['/{tenant}/discovery/v2.0/keys', '/{tenant}/discovery/keys'],
    faultable: true,
    handle(exchange, { services, keys }) {
      const tenantId = resolveTenantSegment(exchange.tenantSegment, services);
      sendMetadata(exchange.response, jsonWebKeySet(services, keys, tenantId, isV1(exchange) ? 1 : 2));
    },
  },
  {
    name: 'authorize',
    methods: ['GET', 'POST'],
    paths: ['/{tenant}/oauth2/v2.0/authorize', '/{tenant}/oauth2/authorize'],
    faultable: false,
    async handle(exchange, { authorize }) {
      const outcome =
        exchange.method === 'GET'
          ? await authorize.begin(exchange.tenantSegment, isV1(exchange) ? v1ParamsAsV2(exchange.url.searchParams) : exchange.url.searchParams)
          : await authorize.continue(await exchange.form());
      sendAuthorizeOutcome(exchange.response, outcome);
    },
  },
  {
    name: 'token',
    methods: ['POST'],
    paths: ['/{tenant}/oauth2/v2.0/token', '/{tenant}/oauth2/token'],
    faultable: true,
    async describe(exchange) {
      const params = await tokenParams(exchange);
      const { entry } = exchange;
      entry.grantType = params.get('grant_type') ?? undefined;
      entry.clientId = (params.get('client_id') ?? basicCredentials(exchange.request)?.clientId)?.toLowerCase();
      entry.scope = params.get('scope') ?? undefined;
      entry.correlationId = exchange.correlationId;
    },
    async handle(exchange, { services }) {
      const body = await handleTokenRequest(exchange.request, await tokenParams(exchange), exchange.tenantSegment, services);
      const answer = isV1(exchange) ? v2ResponseAsV1(body, (await exchange.form()).get('resource'), services.clock.nowSec()) : body;
      sendJson(exchange.response, 200, answer, exchange.correlationId ? { 'client-request-id': exchange.correlationId } : {});
    },
  },
  {
    name: 'logout',
    methods: ['GET'],
    paths: ['/{tenant}/oauth2/v2.0/logout', '/{tenant}/oauth2/logout'],
    faultable: false,
    handle(exchange, { services }) {
      const { searchParams } = exchange.url;
      const target = searchParams.get('post_logout_redirect_uri');
      // Entra redirects only to a post-logout URI registered on the app (any app, when the request names none).
      if (target && isRegisteredPostLogoutUri(services, target, searchParams.get('client_id'))) return redirect(exchange.response, target);
      sendHtml(exchange.response, 200, signedOutPage());
    },
  },
] as const satisfies readonly EndpointRow[];

type Row = (typeof EMULATOR_ENDPOINTS)[number];

/** The endpoint a recorded request went to; `unknown` for a path or method no endpoint answers. */
export type EmulatorEndpoint = Row['name'] | 'unknown';

/** The endpoints a fault can be injected into. */
export type FaultableEndpoint = Extract<Row, { faultable: true }>['name'];

export const FAULTABLE_ENDPOINTS: readonly FaultableEndpoint[] = EMULATOR_ENDPOINTS.filter((row): row is Extract<Row, { faultable: true }> => row.faultable).map((row) => row.name);

function matchesTemplate(template: string, segments: readonly string[]): boolean {
  const parts = template.split('/').filter(Boolean);
  return parts.length === segments.length && parts.every((part, index) => part === '{tenant}' || part === segments[index]);
}

/** The row that answers this method and path, if any. */
export function findEndpoint(method: string, segments: readonly string[]): EndpointRow | undefined {
  return (EMULATOR_ENDPOINTS as readonly EndpointRow[]).find(
    (row) => (row.methods as readonly string[]).includes(method) && row.paths.some((template) => matchesTemplate(template, segments)),
  );
}

/** A memoized form-body reader for one request. */
export function formReader(request: IncomingMessage): () => Promise<URLSearchParams> {
  let form: Promise<URLSearchParams> | undefined;
  return () => (form ??= readBody(request).then((body) => parseFormBody(request, body)));
}
