import type { EmulatorEndpoint } from './endpoints.js';

export type { EmulatorEndpoint };

/** One request the emulator received. Credentials, assertions, codes and tokens are never recorded. */
export interface RecordedRequest {
  /** Emulator-clock time of arrival, in ms since the epoch. */
  atMs: number;
  method: string;
  path: string;
  endpoint: EmulatorEndpoint;
  /** The tenant segment of the path (`{tenant}` in `/{tenant}/oauth2/v2.0/token`). */
  tenant: string;
  grantType?: string | undefined;
  clientId?: string | undefined;
  scope?: string | undefined;
  correlationId?: string | undefined;
  /** The `x-ms-request-id` the emulator answered with (Entra's `trace_id` in error bodies). */
  requestId?: string;
  /** The injected fault this request was answered with. */
  fault?: string;
  /** HTTP status sent (0 until the response is finished, and for a reset connection). */
  status: number;
}

export type RequestFilter = Partial<Pick<RecordedRequest, 'endpoint' | 'tenant' | 'grantType' | 'clientId'>>;

/** The log keeps this many entries and drops the oldest beyond it, so a long benchmark cannot exhaust memory. */
const MAX_ENTRIES = 200_000;

export class RequestLog {
  private log: RecordedRequest[] = [];

  record(method: string, url: URL, atMs: number): RecordedRequest {
    const entry: RecordedRequest = { atMs, method, path: url.pathname, endpoint: 'unknown', tenant: '', status: 0 };
    this.log.push(entry);
    if (this.log.length > MAX_ENTRIES) this.log = this.log.slice(-Math.floor(MAX_ENTRIES * 0.9));
    return entry;
  }

  entries(filter: RequestFilter = {}): RecordedRequest[] {
    const conditions = Object.entries(filter).filter(([, value]) => value !== undefined) as [keyof RecordedRequest, unknown][];
    return this.log.filter((entry) => conditions.every(([name, value]) => entry[name] === value)).map((entry) => ({ ...entry }));
  }

  clear(): void {
    this.log = [];
  }
}
