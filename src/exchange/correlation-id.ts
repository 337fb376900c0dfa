import { DEFAULT_CORRELATION_HEADERS } from '../config/correlation-headers-option.js';
import { isGuid } from '../util/ids.js';

/** `version-traceid-parentid-flags`; https://www.w3.org/TR/trace-context/#traceparent-header-field-values */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);

type HeaderValue = string | string[] | undefined;

/**
 * The id of the incoming request, as the correlation id (`client-request-id`) of the exchange it causes: the first of
 * `names` (lower-case header names; default the `correlationHeaders` default) that holds one. A GUID header as it is (lower-cased), or the trace id of a valid `traceparent` written as a GUID. Anything else is ignored (then
 * the exchange gets a random id); it is never logged, since a header is the caller's to fill with anything.
 */
export function requestCorrelationId(headers: Readonly<Record<string, HeaderValue>> | undefined, names: readonly string[] = DEFAULT_CORRELATION_HEADERS): string | undefined {
  if (!headers) return undefined;
  for (const name of names) {
    const raw = headers[name];
    const value = (Array.isArray(raw) ? raw[0] : raw)?.trim().toLowerCase();
    if (value === undefined) continue;
    const id = name === 'traceparent' ? traceIdAsGuid(value) : isGuid(value) ? value : undefined;
    if (id) return id;
  }
  return undefined;
}

/** The 32 hex digits of a valid `traceparent`'s trace id as 8-4-4-4-12; version `ff` and all-zero ids are invalid. */
function traceIdAsGuid(traceparent: string): string | undefined {
  const match = TRACEPARENT.exec(traceparent);
  if (!match || match[1] === 'ff' || match[2] === ZERO_TRACE_ID || match[3] === ZERO_PARENT_ID) return undefined;
  const hex = match[2]!;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A caller's correlation id when it is a GUID (lower-cased), else undefined: the exchange then makes its own. */
export function validCorrelationId(value: unknown): string | undefined {
  return isGuid(value) ? value.toLowerCase() : undefined;
}
