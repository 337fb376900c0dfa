/**
 * A quoted-string for an auth-param (RFC 9110 §5.6.4): backslash-escape `"` and `\`. RFC 6750 §3 allows only printable
 * ASCII in these values (and Node refuses other header bytes), so everything else is dropped.
 */
function quoted(value: string): string {
  const printable = [...value].filter((character) => character >= ' ' && character <= '~').join('');
  return `"${printable.replace(/(["\\])/g, '\\$1')}"`;
}

/** A `WWW-Authenticate: Bearer ...` challenge (RFC 6750 §3) from auth-params in order. */
export function bearerChallenge(params: Record<string, string | undefined> = {}): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${quoted(value)}`);
  return parts.length > 0 ? `Bearer ${parts.join(', ')}` : 'Bearer';
}
