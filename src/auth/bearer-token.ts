/** RFC 6750 §2.1 `b64token`, optionally padded with `=`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const SCHEME = 'bearer';
const SPACE = 0x20;

/**
 * What follows `Bearer 1*SP` in an `Authorization` header, not yet checked as a `b64token`: cheap, for looking up a
 * token already validated (which is a `b64token` by construction). Anything else must pass `isB64Token` first.
 */
export function bearerCredentialsOf(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string' || header.length < 8) return undefined;
  // The scheme case-insensitively (RFC 7235 §2.1; `| 0x20` lower-cases ASCII letters), then one or more spaces.
  for (let index = 0; index < SCHEME.length; index += 1) if ((header.charCodeAt(index) | SPACE) !== SCHEME.charCodeAt(index)) return undefined;
  let start = SCHEME.length;
  while (header.charCodeAt(start) === SPACE) start += 1;
  return start > SCHEME.length && start < header.length ? header.slice(start) : undefined;
}

export function isB64Token(value: string): boolean {
  return B64TOKEN.test(value);
}

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1: `credentials = "Bearer" 1*SP b64token`, the
 * token and nothing else), or undefined when there is none.
 */
export function bearerTokenFrom(header: string | string[] | undefined): string | undefined {
  const credentials = bearerCredentialsOf(header);
  return credentials !== undefined && isB64Token(credentials) ? credentials : undefined;
}
