import type { Problems } from '../util/problems.js';

/**
 * The headers an incoming request may name its id in, in the order they are trusted: Microsoft's own
 * `client-request-id` / `x-ms-client-request-id` (what MSAL and Entra send and echo), the common `x-request-id`, then
 * a W3C `traceparent`.
 */
export const DEFAULT_CORRELATION_HEADERS: readonly string[] = ['client-request-id', 'x-ms-client-request-id', 'x-request-id', 'traceparent'];

/** An HTTP field name (RFC 9110 `token`). */
const FIELD_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;

/** `correlationHeaders`: header names, lower-cased (Node's headers are), without repeats; `[]` takes no id from requests. */
export function correlationHeadersRule(value: unknown, problems: Problems): readonly string[] {
  if (value === undefined) return DEFAULT_CORRELATION_HEADERS;
  if (Array.isArray(value) && value.every((name) => typeof name === 'string' && FIELD_NAME.test(name))) return [...new Set((value as string[]).map((name) => name.toLowerCase()))];
  problems.add("correlationHeaders must be an array of header names, e.g. ['x-request-id', 'traceparent']");
  return DEFAULT_CORRELATION_HEADERS;
}
