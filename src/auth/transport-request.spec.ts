import type { ExecutionContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { keepUpgradeRequest, transportRequestOf } from './transport-request.js';

/** Nest's own ExecutionContext of `type` with the handler arguments `args`, as guards and pipes receive it. */
function contextOf(type: string, args: unknown[]): ExecutionContext {
  const context = new ExecutionContextHost(args);
  context.setType(type);
  return context;
}

describe('transportRequestOf', () => {
  it('takes the HTTP request as it is', () => {
    const request = { headers: { authorization: 'Bearer abc' } };
    expect(transportRequestOf(contextOf('http', [request, {}, () => undefined]))).toBe(request);
  });

  it("takes GraphQL's `req` from the resolver's third argument, the GraphQL context", () => {
    const request = { headers: { authorization: 'Bearer abc' } };
    expect(transportRequestOf(contextOf('graphql', [{}, {}, { req: request }, {}]))).toBe(request);
    expect(() => transportRequestOf(contextOf('graphql', [{}, {}, {}, {}]))).toThrow(/no HTTP request in the GraphQL context/);
  });

  describe('socket.io', () => {
    it('reads the handshake Authorization header first, and keeps one request per connection with the principal on client.data', () => {
      const client = { handshake: { headers: { authorization: 'Bearer from-header' }, auth: { token: 'from-auth' } }, data: {} as { user?: unknown } };
      const request = transportRequestOf(contextOf('ws', [client, {}]));
      expect(request.headers.authorization).toBe('Bearer from-header');
      request.user = { oid: 'caller' };
      expect(client.data.user).toEqual({ oid: 'caller' });
      expect(transportRequestOf(contextOf('ws', [client, { another: 'message' }]))).toBe(request);
    });

    it("falls back to the auth payload, as browsers cannot set a WebSocket's headers: { token } or { authorization }", () => {
      const byToken = { handshake: { headers: {}, auth: { token: 'raw-token' } }, data: {} };
      const byHeader = { handshake: { headers: {}, auth: { authorization: 'Bearer full-value' } }, data: {} };
      const neither = { handshake: { headers: {}, auth: { token: 42 } }, data: {} };
      expect(transportRequestOf(contextOf('ws', [byToken, {}])).headers.authorization).toBe('Bearer raw-token');
      expect(transportRequestOf(contextOf('ws', [byHeader, {}])).headers.authorization).toBe('Bearer full-value');
      expect(transportRequestOf(contextOf('ws', [neither, {}])).headers.authorization).toBeUndefined();
    });
  });

  it("reads a ws client's kept upgrade request, and nothing without one", () => {
    const kept = { readyState: 1 };
    keepUpgradeRequest(kept, { headers: { authorization: 'Bearer upgrade' } });
    expect(transportRequestOf(contextOf('ws', [kept, {}])).headers.authorization).toBe('Bearer upgrade');
    expect(transportRequestOf(contextOf('ws', [{ readyState: 1 }, {}])).headers.authorization).toBeUndefined();
  });

  describe('microservices', () => {
    const metadata = (values: unknown[]) => ({ get: (key: string) => (key === 'authorization' ? values : []), getMap: () => ({}) });

    it("reads gRPC's authorization metadata, refusing two values as two headers are", () => {
      expect(transportRequestOf(contextOf('rpc', [{}, metadata(['Bearer grpc'])])).headers.authorization).toBe('Bearer grpc');
      expect(transportRequestOf(contextOf('rpc', [{}, metadata(['Bearer a', 'Bearer b'])])).headers.authorization).toBeUndefined();
      expect(transportRequestOf(contextOf('rpc', [{ authorization: 'Bearer payload' }, metadata([])])).headers.authorization).toBeUndefined();
    });

    it("reads the payload's authorization field elsewhere (TCP, Redis), one request per message", () => {
      const tcpContext = { args: [] };
      const request = transportRequestOf(contextOf('rpc', [{ authorization: 'Bearer tcp', id: 1 }, tcpContext]));
      expect(request.headers.authorization).toBe('Bearer tcp');
      expect(transportRequestOf(contextOf('rpc', [{ authorization: 'Bearer tcp', id: 1 }, tcpContext]))).toBe(request);
      expect(transportRequestOf(contextOf('rpc', [{ authorization: 7 }, {}])).headers.authorization).toBeUndefined();
      expect(transportRequestOf(contextOf('rpc', ['a string payload', undefined])).headers.authorization).toBeUndefined();
    });
  });

  it('names a transport it cannot read', () => {
    expect(() => transportRequestOf(contextOf('kafka-streams', []))).toThrow("cannot read a request from a 'kafka-streams' execution context");
  });
});
