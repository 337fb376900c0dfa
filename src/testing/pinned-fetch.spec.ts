import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createCertificateAuthority, issueServerCertificate } from './emulator/x509-certificates.js';
import { createPinnedFetch, type PinnedFetch } from './pinned-fetch.js';

interface EchoedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('createPinnedFetch', () => {
  let server: Server;
  let origin: string;
  let trustedCaPem: string;
  let otherCaPem: string;
  /** Requests the server received, so a test can tell whether one reached it. */
  const received: EchoedRequest[] = [];
  /** Resolved when the next /hang request arrives: the moment a test may abort it. */
  let hangArrived: () => void = () => undefined;
  /** Server-side TLS sockets, to watch keep-alive connections close. */
  const serverSockets: Socket[] = [];
  const pinned: PinnedFetch[] = [];

  function pinnedTo(caPem: string): PinnedFetch {
    const created = createPinnedFetch(caPem);
    pinned.push(created);
    return created;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const echoed: EchoedRequest = { method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
    received.push(echoed);
    if (request.url === '/hang') {
      hangArrived();
      return;
    }
    if (request.url === '/no-content') {
      response.writeHead(204).end();
      return;
    }
    const payload = JSON.stringify(echoed);
    response.writeHead(201, 'Created Here', { 'content-type': 'application/json', 'x-reply': 'yes', 'set-cookie': ['a=1', 'b=2'] });
    response.end(payload);
  }

  beforeAll(async () => {
    // Three RSA keys in all: the trusted CA, the server's certificate, and a CA the server is not signed by.
    const authority = await createCertificateAuthority('Pinned Fetch Test CA');
    const otherAuthority = await createCertificateAuthority('Some Other CA');
    const serverCertificate = await issueServerCertificate(authority, { dns: ['localhost'], ip: ['127.0.0.1'] });
    trustedCaPem = authority.certificatePem;
    otherCaPem = otherAuthority.certificatePem;

    server = createServer({ key: serverCertificate.privateKeyPem, cert: serverCertificate.certificatePem }, (request, response) => {
      handle(request, response).catch(() => response.destroy());
    });
    server.on('secureConnection', (socket: Socket) => serverSockets.push(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    for (const created of pinned.splice(0)) created.close();
    received.length = 0;
  });

  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  it('refuses a plain http: URL with a clear error, before any connection', async () => {
    const { fetch } = pinnedTo(trustedCaPem);
    await expect(fetch('http://127.0.0.1:1/anything')).rejects.toThrow(TypeError);
    await expect(fetch('http://127.0.0.1:1/anything')).rejects.toThrow(/only speaks HTTPS.*refused http: URL/);
  });

  it('reaches a server whose certificate the pinned CA issued, and returns status, headers and body', async () => {
    const { fetch } = pinnedTo(trustedCaPem);
    const response = await fetch(`${origin}/echo?x=1`);
    expect(response.status).toBe(201);
    expect(response.statusText).toBe('Created Here');
    expect(response.headers.get('x-reply')).toBe('yes');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    const echoed = (await response.json()) as EchoedRequest;
    expect(echoed).toMatchObject({ method: 'GET', url: '/echo?x=1', body: '' });
  });

  it('accepts a URL object and a Request as input', async () => {
    const { fetch } = pinnedTo(trustedCaPem);
    expect((await fetch(new URL(`${origin}/from-url`))).status).toBe(201);
    expect((await fetch(new Request(`${origin}/from-request`, { method: 'DELETE' }))).status).toBe(201);
    expect(received.map((request) => `${request.method} ${request.url}`)).toEqual(['GET /from-url', 'DELETE /from-request']);
  });

  it('sends the method, headers and body it was given', async () => {
    const { fetch } = pinnedTo(trustedCaPem);
    const body = 'grant_type=client_credentials&scope=api%3A%2F%2Fx%2F.default&name=%C3%BC';
    const response = await fetch(`${origin}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Client-SKU': 'test' },
      body,
    });
    const echoed = (await response.json()) as EchoedRequest;
    expect(echoed.method).toBe('POST');
    expect(echoed.body).toBe(body);
    expect(echoed.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(echoed.headers['x-client-sku']).toBe('test');
    expect(echoed.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('gives a 204 a null body', async () => {
    const { fetch } = pinnedTo(trustedCaPem);
    const response = await fetch(`${origin}/no-content`);
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  it('fails like fetch does (TypeError "fetch failed" with the TLS error as cause) against another CA', async () => {
    const { fetch } = pinnedTo(otherCaPem);
    const failure = await fetch(`${origin}/echo`).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TypeError);
    expect((failure as TypeError).message).toBe('fetch failed');
    // The cause comes from node:tls, outside Jest's sandbox, so `instanceof Error` cannot be used on it.
    const cause = (failure as TypeError).cause as NodeJS.ErrnoException;
    expect(typeof cause.message).toBe('string');
    expect(cause.code).toMatch(/CERT|VERIFY|SIGNATURE/);
    expect(received).toEqual([]);
  });

  it('does not trust the CA anywhere else in the process', async () => {
    // Node's own fetch lives outside Jest's sandbox: its TypeError is not the sandbox's, so match by name.
    await expect(fetch(`${origin}/echo`)).rejects.toMatchObject({ name: 'TypeError', message: 'fetch failed' });
  });

  it('rejects at once for a signal that is already aborted, without sending the request', async () => {
    const { fetch } = pinnedTo(trustedCaPem);
    const controller = new AbortController();
    controller.abort(new Error('cancelled early'));
    await expect(fetch(`${origin}/echo`, { signal: controller.signal })).rejects.toThrow('cancelled early');
    expect(received).toEqual([]);
  });

  it('aborts a request in flight when its signal fires, with an AbortError', async () => {
    const { fetch } = pinnedTo(trustedCaPem);
    const arrived = new Promise<void>((resolve) => (hangArrived = resolve));
    const controller = new AbortController();
    const pending = fetch(`${origin}/hang`, { signal: controller.signal });
    await arrived;
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  // A Request carries its own signal; WHATWG fetch honours it when no init.signal overrides it.
  it('honours the signal of a Request given as input', async () => {
    const { fetch } = pinnedTo(trustedCaPem);
    const arrived = new Promise<void>((resolve) => (hangArrived = resolve));
    const controller = new AbortController();
    const pending = fetch(new Request(`${origin}/hang`, { signal: controller.signal }));
    // If the signal were ignored this request would hang until the server closes; give up after a while instead.
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still pending after abort'), 2_000)));
    const outcome = Promise.race([pending.then(() => 'resolved', (error: unknown) => error), gaveUp]);
    await arrived;
    controller.abort();
    try {
      expect(await outcome).toEqual(expect.objectContaining({ name: 'AbortError' }));
    } finally {
      clearTimeout(timer);
    }
  });

  it('keeps connections alive until close(), which drops them', async () => {
    const { fetch, close } = pinnedTo(trustedCaPem);
    const socketsBefore = serverSockets.length;
    await (await fetch(`${origin}/echo`)).text();
    await (await fetch(`${origin}/echo`)).text();
    // Keep-alive: both requests went over one connection, still open.
    expect(serverSockets.length).toBe(socketsBefore + 1);
    const socket = serverSockets[serverSockets.length - 1]!;
    expect(socket.destroyed).toBe(false);

    const closed = once(socket, 'close');
    close();
    await closed;
    expect(socket.destroyed).toBe(true);
  });
});
