import type { ArgumentsHost } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import type { OboError } from '../errors/obo-errors.js';
import { oboErrorBody, type OboErrorBody } from '../errors/obo-error-body.js';

/**
 * The answers for transports without an HTTP response, each in the shape that transport's own Nest filter gives (so a
 * client handles them as any other), built from the same body as HTTP's: no token, claim value or secret in any.
 */

/** Apollo's codes for the statuses it names (@nestjs/apollo maps 401 and 403 the same way); ours for the others. */
const GRAPHQL_CODES: Record<number, string> = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 503: 'SERVICE_UNAVAILABLE', 500: 'INTERNAL_SERVER_ERROR' };

/** What a GraphQL error carries in `extensions`: the code, the HTTP status, and the body's RFC 6750 `error`. */
export interface OboGraphqlExtensions {
  code: string;
  status: number;
  error: string;
  scopes?: string[];
  retryAfterSec?: number;
}

/**
 * An error graphql-js reports with these `extensions` (it copies an original error's own `extensions`), so the
 * response's `errors[].extensions` carry them; not an HttpException, so Apollo's own status mapping leaves it as it is.
 */
export function graphqlErrorOf(error: OboError): Error & { extensions: OboGraphqlExtensions } {
  const body = oboErrorBody(error);
  const extensions: OboGraphqlExtensions = { code: GRAPHQL_CODES[body.statusCode] ?? 'INTERNAL_SERVER_ERROR', status: body.statusCode, error: body.error };
  if (body.scopes) extensions.scopes = body.scopes;
  const retryAfterSec = (error as { retryAfterSec?: unknown }).retryAfterSec;
  if (typeof retryAfterSec === 'number') extensions.retryAfterSec = retryAfterSec;
  return Object.assign(new Error(body.message), { extensions });
}

/** A WsException's answer: `{ status: 'error', ... }`, the body's fields beside it, never the message's data. */
export type OboWsAnswer = { status: 'error' } & OboErrorBody;

/** Emits the `exception` event as Nest's BaseWsExceptionFilter does: socket.io's `emit`, or a `ws` JSON frame. */
export function answerWebSocket(error: OboError, host: ArgumentsHost): void {
  const payload: OboWsAnswer = { status: 'error', ...oboErrorBody(error) };
  const client = host.switchToWs().getClient<{ readyState?: unknown; send?: (data: string) => void; emit?: (event: string, data: unknown) => void }>();
  if (typeof client.readyState === 'number' && typeof client.send === 'function') client.send(JSON.stringify({ event: 'exception', data: payload }));
  else client.emit?.('exception', payload);
}

/**
 * gRPC status codes for the HTTP statuses (https://grpc.github.io/grpc/core/md_doc_statuscodes.html): 16
 * UNAUTHENTICATED, 7 PERMISSION_DENIED, 14 UNAVAILABLE, 13 INTERNAL.
 */
const GRPC_CODES: Record<number, number> = { 401: 16, 403: 7, 503: 14, 500: 13 };

/**
 * An RpcException's answer, as Nest's BaseRpcExceptionFilter returns one: an observable that fails with the body.
 * On gRPC (its context is the call's metadata) the error carries the gRPC status `code` and `details` grpc-js sends.
 */
export function answerRpc(error: OboError, host: ArgumentsHost): Observable<never> {
  const body = oboErrorBody(error);
  const context = host.switchToRpc().getContext<{ getMap?: unknown } | undefined>();
  const isGrpc = typeof context === 'object' && context !== null && typeof context.getMap === 'function';
  const answer = isGrpc ? { ...body, code: GRPC_CODES[body.statusCode] ?? 13, details: `${body.error}: ${body.message}` } : { status: 'error' as const, ...body };
  return throwError(() => answer);
}
