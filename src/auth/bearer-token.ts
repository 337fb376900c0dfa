/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined when there is none. */
export function bearerTokenFrom(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string' || header.length < 8) return undefined;
  // The scheme is case-insensitive; exactly one space separates it from the b64token.
  if (header.charCodeAt(6) !== 32 || header.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  const token = header.slice(7);
  return /^[A-Za-z0-9\-._~+/]+=*$/.test(token) ? token : undefined;
}
