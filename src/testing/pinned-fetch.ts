import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';

/** A `fetch` bound to its own connection pool; `close()` drops the pool's idle connections. */
export interface PinnedFetch {
  fetch: typeof fetch;
  close(): void;
}

/**
 * A WHATWG `fetch` that trusts exactly the given CA certificates, for HTTPS only. The emulator hands it to MSAL, jose
 * and openid-client so they reach it over real TLS while nothing else in the process trusts its CA.
 */
export function createPinnedFetch(caCertificatePem: string | string[]): PinnedFetch {
  const agent = new Agent({ ca: caCertificatePem, keepAlive: true });

  const pinnedFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.protocol !== 'https:') throw new TypeError(`This fetch only speaks HTTPS (pinned CA); refused ${url.protocol} URL`);
    const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (body) headers['content-length'] = String(body.length);

    return new Promise<Response>((resolve, reject) => {
      // The Request follows both the input's own signal and init.signal.
      const signal = request.signal;
      if (signal?.aborted) {
        reject(signal.reason ?? new DOMException('This operation was aborted', 'AbortError'));
        return;
      }
      const outgoing = httpsRequest(url, { method: request.method, headers, agent }, (incoming: IncomingMessage) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (Array.isArray(value)) for (const item of value) responseHeaders.append(name, item);
            else if (value !== undefined) responseHeaders.set(name, value);
          }
          const status = incoming.statusCode ?? 500;
          const nullBody = status === 204 || status === 304 || request.method === 'HEAD';
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, statusText: incoming.statusMessage ?? '', headers: responseHeaders }));
        });
      });
      const onAbort = () => {
        outgoing.destroy();
        reject(signal?.reason ?? new DOMException('This operation was aborted', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      outgoing.on('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(new TypeError('fetch failed', { cause: error }));
      });
      outgoing.end(body);
    });
  };
  return { fetch: pinnedFetch as typeof fetch, close: () => agent.destroy() };
}
