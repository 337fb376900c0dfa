import { runInNewContext } from 'node:vm';
import { AuthError, ClientAuthError, ClientAuthErrorCodes } from '@azure/msal-node';
import { createMsalNetworkClient } from './msal-network-client.js';

const TOKEN_URL = 'https://login.emulator.test/contoso/oauth2/v2.0/token';
const DISCOVERY_URL = 'https://login.emulator.test/contoso/v2.0/.well-known/openid-configuration';

interface FetchCall {
  url: string;
  init: RequestInit;
}

/** A fetch that records what it was asked and answers with `respond`. */
function fakeFetch(respond: (call: FetchCall) => Promise<Response>): { fetch: typeof fetch; calls: FetchCall[] } {
  const calls: FetchCall[] = [];
  const implementation = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const call = { url: String(input), init };
    calls.push(call);
    return respond(call);
  };
  return { fetch: implementation as typeof fetch, calls };
}

function jsonResponse(body: unknown, init: ResponseInit = {}): Response {
  return new Response(JSON.stringify(body), { ...init, headers: { 'Content-Type': 'application/json', ...init.headers } });
}

/** The AuthError a promise rejects with, so a test can check its errorCode and errorMessage. */
async function authErrorOf(promise: Promise<unknown>): Promise<AuthError> {
  const failure = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(failure instanceof AuthError)) throw new Error(`expected an AuthError, got ${String(failure)}`);
  return failure;
}

describe('createMsalNetworkClient', () => {
  it('maps a GET: URL, method, headers, an abort signal and no body', async () => {
    const { fetch, calls } = fakeFetch(async () => jsonResponse({ issuer: 'x' }));
    const client = createMsalNetworkClient(fetch);
    await client.sendGetRequestAsync(DISCOVERY_URL, { headers: { 'client-request-id': 'c-1' } });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe(DISCOVERY_URL);
    expect(calls[0]!.init.method).toBe('GET');
    expect(calls[0]!.init.headers).toEqual({ 'client-request-id': 'c-1' });
    expect(calls[0]!.init.signal).toBeInstanceOf(AbortSignal);
    expect('body' in calls[0]!.init).toBe(false);
  });

  it('maps a POST with its form body and headers', async () => {
    const { fetch, calls } = fakeFetch(async () => jsonResponse({ access_token: 'at' }));
    const client = createMsalNetworkClient(fetch);
    const body = 'grant_type=client_credentials&scope=api%3A%2F%2Fx%2F.default';
    await client.sendPostRequestAsync(TOKEN_URL, { body, headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' } });
    expect(calls[0]!.url).toBe(TOKEN_URL);
    expect(calls[0]!.init).toMatchObject({ method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' } });
  });

  it('sends an empty body and no headers when a POST has no options', async () => {
    const { fetch, calls } = fakeFetch(async () => jsonResponse({}));
    await createMsalNetworkClient(fetch).sendPostRequestAsync(TOKEN_URL);
    expect(calls[0]!.init).toMatchObject({ method: 'POST', body: '', headers: {} });
  });

  it('returns the status, the parsed JSON body and lower-case header names', async () => {
    const { fetch } = fakeFetch(async () =>
      jsonResponse({ error: 'invalid_grant', error_codes: [50076] }, { status: 400, headers: { 'X-Ms-Request-Id': 'r-1', 'Client-Request-Id': 'c-1' } }),
    );
    const response = await createMsalNetworkClient(fetch).sendPostRequestAsync<{ error: string; error_codes: number[] }>(TOKEN_URL, { body: 'x=1' });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: 'invalid_grant', error_codes: [50076] });
    expect(response.headers).toEqual({ 'content-type': 'application/json', 'x-ms-request-id': 'r-1', 'client-request-id': 'c-1' });
  });

  // Entra has answered a 429 with the plain text `Too Many Requests`; msal-node reports that as token_parsing_error.
  it('rejects a body that is not JSON with ClientAuthError token_parsing_error', async () => {
    const { fetch } = fakeFetch(async () => new Response('Too Many Requests', { status: 429, headers: { 'Retry-After': '30' } }));
    const failure = await authErrorOf(createMsalNetworkClient(fetch).sendPostRequestAsync(TOKEN_URL, { body: 'x=1' }));
    expect(failure).toBeInstanceOf(ClientAuthError);
    expect(failure.errorCode).toBe(ClientAuthErrorCodes.tokenParsingError);
    expect(failure.errorCode).toBe('token_parsing_error');
    expect(failure.errorMessage).toMatch(/^Failed to parse response: /);
  });

  it('turns a fetch rejection into ClientAuthError network_error, keeping its message', async () => {
    const { fetch } = fakeFetch(async () => {
      throw new TypeError('fetch failed');
    });
    const failure = await authErrorOf(createMsalNetworkClient(fetch).sendGetRequestAsync(DISCOVERY_URL));
    expect(failure).toBeInstanceOf(ClientAuthError);
    expect(failure.errorCode).toBe('network_error');
    expect(failure.errorMessage).toBe('Network request failed: fetch failed');
  });

  // Under Jest, Node's own fetch rejects with a TypeError from outside the sandbox; its message must survive too.
  it('keeps the message of an error from another realm', async () => {
    const foreignError = runInNewContext("new TypeError('fetch failed')") as TypeError;
    const { fetch } = fakeFetch(() => Promise.reject(foreignError));
    const failure = await authErrorOf(createMsalNetworkClient(fetch).sendGetRequestAsync(DISCOVERY_URL));
    expect(failure.errorCode).toBe('network_error');
    expect(failure.errorMessage).toBe('Network request failed: fetch failed');
  });

  it('reports a rejection with something that is not an Error as an unknown network failure', async () => {
    const { fetch } = fakeFetch(() => Promise.reject('socket hang up'));
    const failure = await authErrorOf(createMsalNetworkClient(fetch).sendPostRequestAsync(TOKEN_URL));
    expect(failure.errorCode).toBe('network_error');
    expect(failure.errorMessage).toBe('Network request failed: unknown');
  });

  describe('onResponse', () => {
    // MSAL's errors carry no HTTP status; the caller learns it (and Retry-After) here, even when the body is not JSON.
    it('sees the status and headers of every response, before the body is parsed', async () => {
      const seen: { status: number; retryAfter: string | null }[] = [];
      const { fetch } = fakeFetch(async () => new Response('Too Many Requests', { status: 429, headers: { 'Retry-After': '30' } }));
      const client = createMsalNetworkClient(fetch, { onResponse: (status, headers) => seen.push({ status, retryAfter: headers.get('retry-after') }) });
      await authErrorOf(client.sendPostRequestAsync(TOKEN_URL, { body: 'x=1' }));
      expect(seen).toEqual([{ status: 429, retryAfter: '30' }]);
    });

    it('is not called when no response arrived', async () => {
      const onResponse = jest.fn<void, [number, Headers]>();
      const { fetch } = fakeFetch(() => Promise.reject(new TypeError('fetch failed')));
      await authErrorOf(createMsalNetworkClient(fetch, { onResponse }).sendGetRequestAsync(DISCOVERY_URL));
      expect(onResponse).not.toHaveBeenCalled();
    });
  });

  describe('timeouts', () => {
    beforeEach(() => {
      jest.useFakeTimers();
    });

    afterEach(() => {
      jest.useRealTimers();
    });

    /** A fetch that never answers on its own, only rejecting (as fetch does) when its signal aborts. */
    const silentServer = () =>
      fakeFetch(
        ({ init }) =>
          new Promise<Response>((_resolve, reject) => {
            init.signal!.addEventListener('abort', () => reject(init.signal!.reason), { once: true });
          }),
      );

    // fetch rejects with `signal.reason`, a DOMException from Node's own realm: under Jest (or any vm context) it is
    // not an instance of the sandbox's Error, and the timeout must still be reported as one.
    it('aborts the request after the timeout and reports network_error "Request timeout"', async () => {
      const { fetch, calls } = silentServer();
      const outcome = authErrorOf(createMsalNetworkClient(fetch).sendGetRequestAsync(DISCOVERY_URL, undefined, 5_000));
      await jest.advanceTimersByTimeAsync(4_999);
      expect(calls[0]!.init.signal!.aborted).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      const failure = await outcome;
      expect(calls[0]!.init.signal!.aborted).toBe(true);
      expect(failure).toBeInstanceOf(ClientAuthError);
      expect(failure.errorCode).toBe('network_error');
      expect(failure.errorMessage).toBe('Request timeout');
    });

    it('reports "Request timeout" for an AbortError made in this realm too', async () => {
      const { fetch } = fakeFetch(
        ({ init }) =>
          new Promise<Response>((_resolve, reject) => {
            init.signal!.addEventListener('abort', () => reject(Object.assign(new Error('This operation was aborted'), { name: 'AbortError' })), { once: true });
          }),
      );
      const outcome = authErrorOf(createMsalNetworkClient(fetch).sendGetRequestAsync(DISCOVERY_URL, undefined, 100));
      await jest.advanceTimersByTimeAsync(100);
      const failure = await outcome;
      expect(failure.errorCode).toBe('network_error');
      expect(failure.errorMessage).toBe('Request timeout');
    });

    it('applies the client-wide timeout to POSTs, which MSAL gives none', async () => {
      const { fetch, calls } = silentServer();
      const outcome = authErrorOf(createMsalNetworkClient(fetch, { timeoutMs: 1_000 }).sendPostRequestAsync(TOKEN_URL, { body: 'x=1' }));
      await jest.advanceTimersByTimeAsync(999);
      expect(calls[0]!.init.signal!.aborted).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect((await outcome).errorCode).toBe('network_error');
      expect(calls[0]!.init.signal!.aborted).toBe(true);
    });

    it('lets the timeout MSAL passes for a GET win over the client-wide one', async () => {
      const { fetch, calls } = silentServer();
      const outcome = authErrorOf(createMsalNetworkClient(fetch, { timeoutMs: 10_000 }).sendGetRequestAsync(DISCOVERY_URL, undefined, 500));
      await jest.advanceTimersByTimeAsync(500);
      expect(calls[0]!.init.signal!.aborted).toBe(true);
      expect((await outcome).errorCode).toBe('network_error');
    });

    it('leaves no timer behind once answered', async () => {
      const { fetch } = fakeFetch(async () => jsonResponse({ ok: true }));
      await createMsalNetworkClient(fetch).sendGetRequestAsync(DISCOVERY_URL, undefined, 5_000);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('leaves no timer behind after a failure', async () => {
      const { fetch } = fakeFetch(async () => {
        throw new TypeError('fetch failed');
      });
      await authErrorOf(createMsalNetworkClient(fetch).sendGetRequestAsync(DISCOVERY_URL, undefined, 5_000));
      expect(jest.getTimerCount()).toBe(0);
    });

    it('sets no timer without a timeout', async () => {
      const { fetch, calls } = silentServer();
      void createMsalNetworkClient(fetch).sendGetRequestAsync(DISCOVERY_URL).catch(() => undefined);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(jest.getTimerCount()).toBe(0);
      expect(calls[0]!.init.signal!.aborted).toBe(false);
    });
  });
});
