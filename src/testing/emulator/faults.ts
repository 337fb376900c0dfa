import { FAULTABLE_ENDPOINTS, type FaultableEndpoint } from './endpoints.js';

/** A failure the emulator answers with instead of (or before) its normal response. */
export type EmulatorFault =
  /**
   * HTTP 429 with `Retry-After`. Entra's body is the plain text `Too Many Requests` (the default, `body: 'text'`);
   * `body: 'json'` answers with an Entra-shaped error instead (AADSTS90055).
   */
  | { type: 'throttle'; retryAfterSec?: number; body?: 'json' | 'text' }
  /** An Entra-shaped `temporarily_unavailable` error with this HTTP status. */
  | { type: 'server-error'; status?: 500 | 502 | 503 | 504; retryAfterSec?: number }
  /** Wait this long, then answer normally: for client timeouts. */
  | { type: 'delay'; ms: number }
  /** Destroy the connection without an answer. */
  | { type: 'reset' }
  /** HTTP 200 with a body that is not JSON. */
  | { type: 'malformed-json' };

export type { FaultableEndpoint };

export interface FaultMatch {
  /** Which endpoint the fault hits; `token` by default. */
  endpoint?: FaultableEndpoint;
  /** Only token requests with this `grant_type` (e.g. `urn:ietf:params:oauth:grant-type:jwt-bearer`). */
  grantType?: string;
  /** Only requests from this client id. */
  clientId?: string;
}

interface QueuedFault {
  fault: EmulatorFault;
  remaining: number;
  match: FaultMatch;
}

/** A queued fault as the status page shows it. */
export type QueuedFaultView = Readonly<QueuedFault>;

export interface FaultCandidate {
  endpoint: FaultableEndpoint;
  grantType?: string | undefined;
  clientId?: string | undefined;
}

/**
 * Faults queued for the next matching responses. Each entry is used `times` times, in the order queued, so a test
 * can script "two 503s, then success".
 */
export class FaultQueue {
  private queue: QueuedFault[] = [];

  /** Answers the next `times` matching requests with `fault`. */
  inject(fault: EmulatorFault, options: FaultMatch & { times?: number } = {}): void {
    const { times = 1, ...match } = options;
    if (match.endpoint !== undefined && !FAULTABLE_ENDPOINTS.includes(match.endpoint)) {
      throw new RangeError(`faults.inject: endpoint must be one of ${FAULTABLE_ENDPOINTS.join(', ')}, got '${String(match.endpoint)}'`);
    }
    if (!Number.isInteger(times) || times < 1) throw new RangeError(`faults.inject: times must be a positive integer, got ${times}`);
    if (fault.type === 'delay' && !(Number.isFinite(fault.ms) && fault.ms >= 0 && fault.ms <= 2_147_483_647)) {
      throw new RangeError('faults.inject: a delay needs 0 <= ms <= 2147483647');
    }
    this.queue.push({ fault, remaining: times, match });
  }

  /** Faults not yet used. */
  get pending(): number {
    return this.queue.reduce((total, entry) => total + entry.remaining, 0);
  }

  clear(): void {
    this.queue = [];
  }

  /** The faults not yet used, in the order they will be, with how many uses each has left. */
  get queued(): QueuedFaultView[] {
    return this.queue.map((entry) => ({ ...entry, match: { ...entry.match } }));
  }

  /** The fault for this request, if one is queued for it; using it counts it down. */
  take(candidate: FaultCandidate): EmulatorFault | undefined {
    const entry = this.queue.find(
      ({ match }) =>
        (match.endpoint ?? 'token') === candidate.endpoint &&
        (match.grantType === undefined || match.grantType === candidate.grantType) &&
        (match.clientId === undefined || match.clientId === candidate.clientId),
    );
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining === 0) this.queue.splice(this.queue.indexOf(entry), 1);
    return entry.fault;
  }
}
