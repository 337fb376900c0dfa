import { Logger } from '@nestjs/common';
import { InvalidTokenError, type InvalidTokenReason } from '../errors/obo-errors.js';
import { countRejection } from '../observability/tallies.js';

/** One comparison that made a token fail: what this API expects, and what the token had. */
export interface RejectionDetail {
  claim: 'aud' | 'iss' | 'tid' | 'key issuer';
  expected: string | readonly string[];
  actual: unknown;
}

/** What a rejection compared, for the debug log; kept beside the error, never in it. */
const rejectionDetails = new WeakMap<InvalidTokenError, RejectionDetail>();

/** An `InvalidTokenError`, with what it compared (for the debug log) kept beside it. */
export function invalid(reason: InvalidTokenReason, message: string, cause?: unknown, detail?: RejectionDetail): InvalidTokenError {
  const error = new InvalidTokenError(reason, message, cause === undefined ? undefined : { cause });
  if (detail) rejectionDetails.set(error, detail);
  return error;
}

export function rejectionDetailOf(error: InvalidTokenError): RejectionDetail | undefined {
  return rejectionDetails.get(error);
}

const ONE_MINUTE_MS = 60_000;
const MAX_VALUE_CHARS = 200;

/** A claim value as a log can carry it: JSON (so CR/LF and quotes are escaped), cut short. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

/**
 * Logs rejected tokens at debug level, at most once per reason per minute (on the configured clock), so a flood of
 * bad tokens costs one line a minute. A line names the reason and, where it helps a deployment, the expected and
 * actual audience, issuer or tenant; never the token. Every rejection, logged or not, counts towards
 * `entra_obo.validation.rejections` {reason}: the reason code only, never a claim value.
 */
export class RejectionLog {
  private readonly logger = new Logger('OboModule');
  private readonly lastLoggedMs = new Map<string, number>();

  constructor(private readonly nowMs: () => number) {}

  report(reason: InvalidTokenReason, message: string, detail?: RejectionDetail): void {
    countRejection(reason);
    const nowMs = this.nowMs();
    const last = this.lastLoggedMs.get(reason);
    if (last !== undefined && nowMs - last < ONE_MINUTE_MS && nowMs >= last) return;
    this.lastLoggedMs.set(reason, nowMs);
    const comparison = detail
      ? `; expected ${detail.claim} ${typeof detail.expected === 'string' ? shown(detail.expected) : `one of ${shown(detail.expected)}`}, got ${shown(detail.actual)}`
      : '';
    this.logger.debug(`Access token rejected (${reason}): ${message}${comparison}`);
  }
}
