import type { ExecutionContext } from '@nestjs/common';
import type { GuardedRequest } from './request-principal.js';

/**
 * The one step from an execution context to the request the guard, the pipes and `@CurrentUser` read, for each Nest
 * transport. HTTP's request is taken as it is: one `getType()` check and the handler's first argument, which is what
 * `switchToHttp().getRequest()` returns (that call also gives the context three new closures, on every request). The
 * others have no request, so a `GuardedRequest` is made for them once per connection (WebSocket) or message (RPC),
 * kept in a WeakMap, holding the `Authorization` value from the place the README's "Transports" section names, and the
 * principal the guard attaches.
 */
export function transportRequestOf(context: ExecutionContext): GuardedRequest {
  const type = context.getType<string>();
  if (type === 'http') return context.getArgByIndex<GuardedRequest>(0);
  if (type === 'graphql') return graphqlRequestOf(context.getArgs()[2]);
  if (type === 'ws') return webSocketRequestOf(context.switchToWs().getClient<object>());
  if (type === 'rpc') return rpcRequestOf(context.switchToRpc().getContext<unknown>(), context.switchToRpc().getData<unknown>());
  throw new TypeError(`OboAuthGuard cannot read a request from a '${type}' execution context; override its getRequest().`);
}

/**
 * GraphQL's context (the resolver's third argument, as `GqlExecutionContext` reads it, without depending on
 * @nestjs/graphql) carries the HTTP request as `req`: @nestjs/apollo puts it there for Express and Fastify alike.
 */
function graphqlRequestOf(graphqlContext: unknown): GuardedRequest {
  const request = (graphqlContext as { req?: GuardedRequest } | undefined)?.req;
  if (!request || typeof request !== 'object' || !request.headers) {
    throw new TypeError('OboAuthGuard found no HTTP request in the GraphQL context: return `req` from the GraphQL module\'s context function.');
  }
  return request;
}

const upgradeRequests = new WeakMap<object, { headers: GuardedRequest['headers'] }>();
const connectionRequests = new WeakMap<object, GuardedRequest>();

/**
 * For gateways on the `ws` platform, whose client object does not keep the HTTP upgrade request: call it in
 * `handleConnection(client, request)` so that the guard reads that request's `Authorization` header on each message.
 */
export function keepUpgradeRequest(client: object, request: { headers: GuardedRequest['headers'] }): void {
  upgradeRequests.set(client, request);
}

interface SocketIoClient {
  handshake?: { headers?: GuardedRequest['headers']; auth?: Record<string, unknown> };
  data?: { user?: unknown };
}

/**
 * A WebSocket connection's request: socket.io's handshake `Authorization` header, else (browsers cannot set headers on a
 * WebSocket) its `auth` payload, `{ token }` or `{ authorization: 'Bearer ...' }`; a `ws` client's kept upgrade request.
 * Read once per connection: neither changes while it is open. The principal is kept on socket.io's `client.data.user`.
 */
function webSocketRequestOf(client: object): GuardedRequest {
  let request = connectionRequests.get(client);
  if (request) return request;
  const socket = client as SocketIoClient;
  const authorization = socket.handshake ? socketIoAuthorization(socket.handshake) : upgradeRequests.get(client)?.headers.authorization;
  request = { headers: { authorization } };
  if (socket.data && typeof socket.data === 'object') {
    const data = socket.data;
    Object.defineProperty(request, 'user', { get: () => data.user, set: (user: unknown) => (data.user = user), enumerable: true });
  }
  connectionRequests.set(client, request);
  return request;
}

function socketIoAuthorization(handshake: NonNullable<SocketIoClient['handshake']>): string | string[] | undefined {
  const header = handshake.headers?.authorization;
  if (header !== undefined) return header;
  const { token, authorization } = handshake.auth ?? {};
  if (typeof token === 'string') return `Bearer ${token}`;
  return typeof authorization === 'string' ? authorization : undefined;
}

const messageRequests = new WeakMap<object, GuardedRequest>();

interface GrpcMetadata {
  get(key: string): unknown[];
  getMap(): unknown;
}

/**
 * A microservice message's request, one per message (keyed by its context object, a new one per message on every
 * transport): gRPC's `authorization` metadata; for transports without metadata (TCP, Redis, ...) the payload's
 * `authorization` field, `Bearer <token>`.
 */
function rpcRequestOf(rpcContext: unknown, data: unknown): GuardedRequest {
  const key = typeof rpcContext === 'object' && rpcContext !== null ? rpcContext : typeof data === 'object' && data !== null ? data : undefined;
  const known = key && messageRequests.get(key);
  if (known) return known;
  const request: GuardedRequest = { headers: { authorization: isGrpcMetadata(rpcContext) ? grpcAuthorization(rpcContext) : payloadAuthorization(data) } };
  if (key) messageRequests.set(key, request);
  return request;
}

function isGrpcMetadata(value: unknown): value is GrpcMetadata {
  return typeof value === 'object' && value !== null && typeof (value as GrpcMetadata).get === 'function' && typeof (value as GrpcMetadata).getMap === 'function';
}

function grpcAuthorization(metadata: GrpcMetadata): string | undefined {
  const values = metadata.get('authorization');
  // One value only: two `authorization` entries are as ambiguous as two headers, and refused the same way.
  return values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
}

function payloadAuthorization(data: unknown): string | undefined {
  const authorization = typeof data === 'object' && data !== null ? (data as { authorization?: unknown }).authorization : undefined;
  return typeof authorization === 'string' ? authorization : undefined;
}

/**
 * Whether an HTTP request reached the server `instance` (an HTTP adapter's `getInstance()`): Express sets `req.app` to
 * its application; a Fastify request's `server` is the instance its route lives in, the root or a plugin's
 * encapsulated child, which Fastify makes with `Object.create(parent)`, hence the walk up the prototypes.
 */
export function isRequestOfServer(request: GuardedRequest, instance: unknown): boolean {
  if (typeof instance !== 'object' && typeof instance !== 'function') return false;
  if (instance === null) return false;
  const { app, server } = request as { app?: unknown; server?: unknown };
  if (app === instance) return true;
  for (let scope = server; typeof scope === 'object' && scope !== null; scope = Object.getPrototypeOf(scope)) {
    if (scope === instance) return true;
  }
  return false;
}
