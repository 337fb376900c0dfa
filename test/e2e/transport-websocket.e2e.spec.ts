// OboAuthGuard, @CurrentUser and @DownstreamToken in real WebSocket gateways on loopback, socket.io and ws, on Express
// and Fastify. The token is read at the handshake (socket.io: the Authorization header, or the `auth` payload browsers
// use, since the browser WebSocket API cannot set headers: https://socket.io/docs/v4/client-options/#auth; ws: the
// upgrade request's Authorization header) and re-checked on every message, so a token that expires mid-connection gets
// an `exception` event on the next message. Nest applies no global filter to gateways, hence @UseFilters.
import { UseFilters, UseGuards, type INestApplication, Module } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { ConnectedSocket, SubscribeMessage, WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import { decodeJwt } from 'jose';
import { io, type Socket } from 'socket.io-client';
import { WebSocket } from 'ws';
import { CurrentUser, DownstreamToken, keepUpgradeRequest, OboAuthGuard, OboExceptionFilter, OboModule, RequireRoles, type EntraPrincipal } from '../../src/index.js';
import { useEmulator, userToken } from '../support/emulator.js';
import { ADAPTERS, startNestApp, type AdapterName } from './support/nest-app.js';
import { DOWNSTREAM_READ, middleTierOptions } from './support/test-app.js';
import type { EntraEmulator } from '../../src/testing/index.js';

/** Well past any access token's lifetime (at most 90 minutes in the emulator, as in Entra) and the clock tolerance. */
const PAST_EXPIRY_SEC = 3 * 3600;

@WebSocketGateway()
@UseGuards(OboAuthGuard)
@UseFilters(OboExceptionFilter)
class SocketIoGateway {
  @SubscribeMessage('whoami')
  whoami(@CurrentUser() user: EntraPrincipal, @ConnectedSocket() client: { data: { user?: EntraPrincipal } }) {
    return { oid: user.oid, keptOnClientData: client.data.user === user };
  }

  @SubscribeMessage('downstream')
  downstream(@DownstreamToken(DOWNSTREAM_READ) token: string) {
    return { aud: decodeJwt(token).aud };
  }

  @SubscribeMessage('admin')
  @RequireRoles('Tasks.Admin')
  admin() {
    return { ok: true };
  }
}

@WebSocketGateway({ path: '/ws' })
@UseGuards(OboAuthGuard)
@UseFilters(OboExceptionFilter)
class WsGateway implements OnGatewayConnection {
  handleConnection(client: object, request: IncomingMessage) {
    keepUpgradeRequest(client, request);
  }

  @SubscribeMessage('whoami')
  whoami(@CurrentUser() user: EntraPrincipal) {
    return { event: 'whoami', data: { oid: user.oid } };
  }

  @SubscribeMessage('downstream')
  downstream(@DownstreamToken(DOWNSTREAM_READ) token: string) {
    return { event: 'downstream', data: { aud: decodeJwt(token).aud } };
  }
}

async function startGatewayApp(adapter: AdapterName, entra: EntraEmulator, gateway: 'socket.io' | 'ws'): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [OboModule.forRoot(middleTierOptions(entra))], providers: [gateway === 'ws' ? WsGateway : SocketIoGateway] })
  class GatewayModule {}
  return startNestApp(GatewayModule, adapter, ['error', 'warn'], (app) => {
    if (gateway === 'ws') app.useWebSocketAdapter(new WsAdapter(app));
  });
}

/** The next `exception` event or acknowledgement of `event`, whichever comes first. */
function ask(socket: Socket, event: string): Promise<{ ack?: unknown; exception?: unknown }> {
  return new Promise((resolve) => {
    const onException = (exception: unknown) => resolve({ exception });
    socket.once('exception', onException);
    socket.emit(event, {}, (ack: unknown) => {
      socket.off('exception', onException);
      resolve({ ack });
    });
  });
}

function connectSocketIo(url: string, options: { auth?: Record<string, unknown>; extraHeaders?: Record<string, string> }): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/** The gateway app of `kind` for the describe block, and the clients a test opened, closed after each test. */
function useGateway<Client>(adapter: AdapterName, entra: EntraEmulator, kind: 'socket.io' | 'ws', closeClient: (client: Client) => void) {
  let app: { app: INestApplication; url: string } | undefined;
  const clients: Client[] = [];
  beforeAll(async () => {
    app = await startGatewayApp(adapter, entra, kind);
  });
  afterEach(() => clients.splice(0).forEach(closeClient));
  afterAll(() => app?.app.close());
  return {
    get url(): string {
      return app!.url;
    },
    track(client: Client): Client {
      clients.push(client);
      return client;
    },
  };
}

describe.each(ADAPTERS)('WebSocket gateways on %s', (adapter) => {
  const entra = useEmulator();

  describe('socket.io', () => {
    const gateway = useGateway<Socket>(adapter, entra, 'socket.io', (socket) => socket.disconnect());
    const connect = async (options: Parameters<typeof connectSocketIo>[1]) => gateway.track(await connectSocketIo(gateway.url, options));

    it('reads the handshake Authorization header and keeps the principal on client.data', async () => {
      const socket = await connect({ extraHeaders: { authorization: `Bearer ${await userToken(entra)}` } });
      expect(await ask(socket, 'whoami')).toEqual({ ack: { oid: entra.defaults.users.member.id, keptOnClientData: true } });
    });

    it("reads the browser's auth payload, { token } or { authorization }", async () => {
      const token = await userToken(entra);
      expect(await ask(await connect({ auth: { token } }), 'whoami')).toEqual({ ack: expect.objectContaining({ oid: entra.defaults.users.member.id }) });
      expect(await ask(await connect({ auth: { authorization: `Bearer ${token}` } }), 'whoami')).toEqual({ ack: expect.objectContaining({ oid: entra.defaults.users.member.id }) });
    });

    it('exchanges the token On-Behalf-Of for @DownstreamToken in a message handler', async () => {
      const socket = await connect({ auth: { token: await userToken(entra) } });
      expect(await ask(socket, 'downstream')).toEqual({ ack: { aud: entra.defaults.apps.downstreamApi.app.clientId } });
    });

    it("answers a message without a token with a WsException-shaped 'exception' event", async () => {
      const socket = await connect({});
      expect(await ask(socket, 'whoami')).toEqual({ exception: { status: 'error', statusCode: 401, error: 'unauthorized', message: 'The request has no bearer access token.' } });
    });

    it('answers a missing role 403 insufficient_scope', async () => {
      const socket = await connect({ auth: { token: await userToken(entra) } });
      expect(await ask(socket, 'admin')).toEqual({ exception: expect.objectContaining({ status: 'error', statusCode: 403, error: 'insufficient_scope' }) });
    });

    it('re-checks the token on each message: once it expires mid-connection, the next message gets invalid_token', async () => {
      const socket = await connect({ auth: { token: await userToken(entra) } });
      expect(await ask(socket, 'whoami')).toEqual({ ack: expect.objectContaining({ oid: entra.defaults.users.member.id }) });
      entra.clock.advanceSec(PAST_EXPIRY_SEC);
      expect(await ask(socket, 'whoami')).toEqual({ exception: expect.objectContaining({ status: 'error', statusCode: 401, error: 'invalid_token' }) });
      expect(socket.connected).toBe(true); // the client decides: reconnect with a fresh token in `auth`
    });
  });

  describe('ws', () => {
    const gateway = useGateway<WebSocket>(adapter, entra, 'ws', (client) => client.close());

    async function connect(authorization?: string): Promise<WebSocket> {
      const client = gateway.track(new WebSocket(`${gateway.url.replace('http', 'ws')}/ws`, authorization === undefined ? {} : { headers: { authorization } }));
      await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
      return client;
    }
    function send(client: WebSocket, event: string): Promise<unknown> {
      return new Promise((resolve) => {
        client.once('message', (frame: Buffer) => resolve(JSON.parse(frame.toString('utf8'))));
        client.send(JSON.stringify({ event, data: {} }));
      });
    }

    it("reads the upgrade request's Authorization header on each message", async () => {
      const client = await connect(`Bearer ${await userToken(entra)}`);
      expect(await send(client, 'whoami')).toEqual({ event: 'whoami', data: { oid: entra.defaults.users.member.id } });
      expect(await send(client, 'downstream')).toEqual({ event: 'downstream', data: { aud: entra.defaults.apps.downstreamApi.app.clientId } });
    });

    it('answers a message without a token with an exception frame', async () => {
      const client = await connect();
      expect(await send(client, 'whoami')).toEqual({ event: 'exception', data: { status: 'error', statusCode: 401, error: 'unauthorized', message: 'The request has no bearer access token.' } });
    });

    it('answers an expired token, mid-connection, with invalid_token', async () => {
      const client = await connect(`Bearer ${await userToken(entra)}`);
      expect(await send(client, 'whoami')).toMatchObject({ event: 'whoami' });
      entra.clock.advanceSec(PAST_EXPIRY_SEC);
      expect(await send(client, 'whoami')).toEqual({ event: 'exception', data: expect.objectContaining({ statusCode: 401, error: 'invalid_token' }) });
    });
  });
});
