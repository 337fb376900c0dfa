// The load generator: cheap per request, so that one core keeps even a Fastify server busy. Keep-alive sockets, each
// with a few prepared requests in flight (HTTP/1.1 pipelining, as Fastify's own benchmarks load with `autocannon -p
// 10`), rotating bearer tokens, responses counted by their Content-Length instead of parsed. A full client such as
// autocannon spends about as much per request as a Fastify server does, so under it the server waits part of the
// time and a throughput ratio measures round trips more than the server's work.
import { connect, type Socket } from 'node:net';

export interface HttpLoadResult {
  requests: number;
  non2xx: number;
  seconds: number;
  /** Response times in ms (send to last byte; with requests in flight, queueing included), sorted. */
  latenciesMs: Float64Array;
}

/** Reads HTTP/1.1 responses off one socket, in order: each one's status class, from its head and Content-Length. */
class ResponseReader {
  private buffered: Buffer = Buffer.alloc(0);

  /** The responses complete in `chunk` (and what came before it): true for a 2xx, false otherwise. */
  read(chunk: Buffer): boolean[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const statuses: boolean[] = [];
    for (;;) {
      const headEnd = this.buffered.indexOf('\r\n\r\n');
      if (headEnd < 0) break;
      const head = this.buffered.toString('latin1', 0, headEnd);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1]);
      if (!Number.isFinite(length)) throw new Error('the bench load generator needs responses with a Content-Length');
      const end = headEnd + 4 + length;
      if (this.buffered.length < end) break;
      statuses.push(head.startsWith('HTTP/1.1 2'));
      this.buffered = this.buffered.subarray(end);
    }
    return statuses;
  }
}

/** `connections` sockets with `inFlight` requests each, for `seconds`; every response counted and timed. */
export async function httpLoad(target: string, tokens: readonly string[], seconds: number, connections: number, inFlight: number): Promise<HttpLoadResult> {
  const url = new URL(target);
  const requests = tokens.map((token) => Buffer.from(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\n\r\n`, 'latin1'));
  let next = 0;
  let stopping = false;
  let answered = 0;
  let non2xx = 0;
  let latencies = new Float64Array(1 << 16);
  const record = (ms: number) => {
    if (answered === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[answered++] = ms;
  };
  const sockets: Socket[] = [];
  let failure: Error | undefined;
  const started = performance.now();
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<void>((resolve, reject) => {
          const sentAt: number[] = [];
          const reader = new ResponseReader();
          const send = () => {
            sentAt.push(performance.now());
            socket.write(requests[next++ % requests.length]!);
          };
          const socket = connect(Number(url.port), url.hostname, () => {
            socket.setNoDelay(true);
            for (let i = 0; i < inFlight; i += 1) send();
            resolve();
          });
          sockets.push(socket);
          socket.on('data', (chunk: Buffer) => {
            try {
              const now = performance.now();
              for (const ok of reader.read(chunk)) {
                record(now - sentAt.shift()!);
                if (!ok) non2xx += 1;
                if (!stopping) send();
              }
            } catch (error) {
              failure = error as Error;
              socket.destroy();
            }
          });
          socket.on('error', (error) => {
            failure ??= error;
            reject(error);
          });
        }),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  stopping = true;
  const elapsed = (performance.now() - started) / 1000;
  for (const socket of sockets) socket.destroy();
  if (failure) throw failure;
  return { requests: answered, non2xx, seconds: elapsed, latenciesMs: latencies.slice(0, answered).sort() };
}
