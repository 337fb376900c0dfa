/**
 * `credentials = "Bearer" 1*SP b64token` (RFC 6750 §2.1): the scheme case-insensitively (RFC 7235 §2.1), one or more
 * spaces, then the token and nothing else.
 */
const BEARER_CREDENTIALS = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined when there is none. */
export function bearerTokenFrom(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string' || header.length < 8) return undefined;
  return BEARER_CREDENTIALS.exec(header)?.[1];
}
