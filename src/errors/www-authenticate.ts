/** A quoted-string for an auth-param (RFC 9110 §5.6.4): backslash-escape `"` and `\`, drop control characters. */
function quoted(value: string): string {
  const printable = [...value].filter((character) => character >= ' ' && character !== '\u007f').join('');
  return `"${printable.replace(/(["\\])/g, '\\$1')}"`;
}

/** A `WWW-Authenticate: Bearer ...` challenge (RFC 6750 §3) from auth-params in order. */
export function bearerChallenge(params: Record<string, string | undefined> = {}): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${quoted(value)}`);
  return parts.length > 0 ? `Bearer ${parts.join(', ')}` : 'Bearer';
}
