import type { INetworkModule } from '@azure/msal-node';

/**
 * A minimal MSAL network client over a pinned `fetch`, for the raw msal-node baselines: the library's own adapter is
 * not public, and the baseline should not depend on it anyway.
 */
export function createMsalNetworkClientForBench(fetchImplementation: typeof fetch): INetworkModule {
  const send = async <T>(url: string, method: 'GET' | 'POST', options?: { headers?: Record<string, string>; body?: string }) => {
    const response = await fetchImplementation(url, { method, headers: options?.headers ?? {}, ...(method === 'POST' ? { body: options?.body ?? '' } : {}) });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { headers, body: (await response.json()) as T, status: response.status };
  };
  return {
    sendGetRequestAsync: (url, options) => send(url, 'GET', options),
    sendPostRequestAsync: (url, options) => send(url, 'POST', options),
  };
}
