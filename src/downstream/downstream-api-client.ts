import { parseWwwAuthenticate } from '../errors/www-authenticate.js';
import type { ResolvedDownstreamApi } from '../config/resolve-options.js';
import { bodyExcerpt, DownstreamApiError } from './downstream-api-error.js';

/** Where a client gets its bearer token: on behalf of a user (which can answer a claims challenge), or as the app. */
export interface DownstreamTokenSource {
  /** A token for the API's scopes; with `claims`, a new one from Entra that satisfies them. */
  token(claims?: string): Promise<string>;
  /** Whether `token(claims)` can answer a claims challenge (On-Behalf-Of can; client credentials here cannot). */
  readonly answersClaims: boolean;
}

export interface DownstreamCallSettings {
  fetch: typeof fetch;
  timeoutMs: number;
}

/** A body fetch can send twice: anything but a stream (a stream is read once, and may be large or unending). */
function isReplayable(body: RequestInit['body']): boolean {
  return !(body instanceof ReadableStream) && !(typeof body === 'object' && body !== null && Symbol.asyncIterator in body);
}

/**
 * A client bound to one named API and one caller (a user, or this app): `fetch(path)` sets the bearer token, `json(path)`
 * also checks the status and parses. A downstream 401 with an `insufficient_claims` challenge (CAE, an authentication
 * context) is answered once: one new exchange with its claims (which replaces the cached token), one retry. If Entra
 * then needs the user (MFA), its `InsufficientClaimsError` reaches our caller as our own 401 with the claims. A stream
 * body is not buffered: its 401 is returned as it came, challenge and all, for the caller to handle.
 */
export class DownstreamApiClient {
  constructor(
    private readonly api: ResolvedDownstreamApi,
    private readonly tokens: DownstreamTokenSource,
    private readonly settings: DownstreamCallSettings,
  ) {}

  /** The configured API's name. */
  get name(): string {
    return this.api.name;
  }

  /** Calls `path` (relative to the API's base URL) with the bearer token; the `Response` as it came, any status. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const url = this.urlOf(path);
    const token = await this.tokens.token();
    const response = await this.send(url, init, token);
    const challenge = response.status === 401 ? parseWwwAuthenticate(response.headers.get('www-authenticate')) : undefined;
    if (challenge?.error !== 'insufficient_claims' || !challenge.claims || !this.tokens.answersClaims || !isReplayable(init.body)) return response;
    await response.body?.cancel().catch(() => undefined);
    // Never a loop: one exchange with the claims, one retry, and whatever that answers is the answer.
    const satisfying = await this.tokens.token(challenge.claims);
    return this.send(url, init, satisfying);
  }

  /** `fetch`, then the parsed JSON of a 2xx (undefined for 204); a `DownstreamApiError` for any other status. */
  async json<T = unknown>(path: string, init: RequestInit = {}): Promise<T> {
    const headers = new Headers(init.headers);
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    const response = await this.fetch(path, { ...init, headers });
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw new DownstreamApiError(this.api.name, response.status, bodyExcerpt(text), 'status');
    }
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** A path under the base URL; absolute URLs and `..` that would leave it are refused, so a token never goes elsewhere. */
  private urlOf(path: string): URL {
    if (typeof path !== 'string' || /^[a-z][a-z0-9+.-]*:|^\/\//i.test(path)) throw new TypeError(`${this.api.name}: pass a path relative to the API's base URL, not a URL`);
    const url = new URL(path.replace(/^\/+/, ''), this.api.baseUrl);
    if (url.origin !== new URL(this.api.baseUrl).origin || !url.href.startsWith(this.api.baseUrl)) throw new TypeError(`${this.api.name}: the path leaves the API's base URL`);
    return url;
  }

  /** One request; `timeoutMs` bounds it until the answer's headers arrive (reading the body is the caller's). */
  private async send(url: URL, init: RequestInit, token: string): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new DOMException('The downstream API did not answer in time', 'TimeoutError')), this.settings.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout.signal]) : timeout.signal;
    try {
      return await this.settings.fetch(url, { ...init, headers, signal });
    } catch (error) {
      if (init.signal?.aborted) throw error; // the caller's own abort stays theirs
      throw new DownstreamApiError(this.api.name, 0, '', timeout.signal.aborted ? 'timeout' : 'network', { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}
