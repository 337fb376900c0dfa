import { ClientAuthError, ClientAuthErrorCodes, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';

/** MSAL's network seam (`system.networkClient`), named here so no other folder imports `@azure/msal-node` for it. */
export type MsalNetworkClient = INetworkModule;

export interface MsalNetworkClientOptions {
  /** Applies to every request, body included (MSAL itself passes a timeout only for GETs). */
  timeoutMs?: number;
  /** Sees each response's status and headers: MSAL's errors carry no HTTP status, and `Retry-After` matters. */
  onResponse?: (status: number, headers: Headers) => void;
}

/**
 * MSAL's network seam built on a `fetch`: the one way we route MSAL's discovery and token requests through a fetch
 * the application chose (a pinned CA for the emulator, a proxy). It mirrors msal-node's own HttpClient so that MSAL
 * behaves exactly as with its default client: JSON bodies, lower-case header names, timeouts as network errors and
 * non-JSON bodies (a plain-text 429) as `token_parsing_error`.
 */
export function createMsalNetworkClient(fetchImplementation: typeof fetch, settings: MsalNetworkClientOptions = {}): MsalNetworkClient {
  async function send<T>(url: string, method: 'GET' | 'POST', options: NetworkRequestOptions | undefined, requestTimeoutMs?: number): Promise<NetworkResponse<T>> {
    const timeoutMs = requestTimeoutMs ?? settings.timeoutMs;
    const controller = new AbortController();
    const timer = timeoutMs ? setTimeout(() => controller.abort(), timeoutMs) : undefined;
    // Errors are read by shape, not `instanceof`: fetch rejects with objects from another realm under test runners.
    const messageOf = (error: unknown) => (typeof (error as { message?: unknown })?.message === 'string' ? (error as { message: string }).message : 'unknown');
    try {
      let response: Response;
      try {
        response = await fetchImplementation(url, {
          method,
          headers: options?.headers ?? {},
          signal: controller.signal,
          ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
        });
      } catch (error) {
        const reason = controller.signal.aborted ? 'Request timeout' : `Network request failed: ${messageOf(error)}`;
        throw new ClientAuthError(ClientAuthErrorCodes.networkError, '', reason);
      }
      settings.onResponse?.(response.status, response.headers);
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value;
      });
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        const reason = controller.signal.aborted ? 'Request timeout' : `Network request failed: ${messageOf(error)}`;
        throw new ClientAuthError(ClientAuthErrorCodes.networkError, '', reason);
      }
      try {
        return { headers, body: JSON.parse(text) as T, status: response.status };
      } catch (error) {
        throw new ClientAuthError(ClientAuthErrorCodes.tokenParsingError, '', `Failed to parse response: ${messageOf(error)}`);
      }
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  return {
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions, timeoutMs?: number) => send<T>(url, 'GET', options, timeoutMs),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>(url, 'POST', options),
  };
}
