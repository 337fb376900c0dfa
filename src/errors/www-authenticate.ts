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

/** A `Bearer` challenge as a client reads it: the auth-params, and the ones Entra's challenges use by name. */
export interface BearerChallengeParams {
  /** Every auth-param by lower-case name, unquoted and unescaped. */
  params: Readonly<Record<string, string>>;
  error: string | undefined;
  errorDescription: string | undefined;
  /** The claims challenge, decoded from base64 to its JSON text (as Entra sends it); undefined when absent or not decodable. */
  claims: string | undefined;
  scope: string | undefined;
  authorizationUri: string | undefined;
  realm: string | undefined;
}

const TOKEN_CHARS = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** The auth-params of each challenge in a `WWW-Authenticate` value (RFC 9110 §11.6.1), by lower-case scheme. */
function challengesOf(header: string): { scheme: string; params: Record<string, string> }[] {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  let at = 0;
  const skip = (pattern: RegExp) => {
    while (at < header.length && pattern.test(header[at]!)) at += 1;
  };
  const token = () => {
    const start = at;
    skip(TOKEN_CHARS);
    return header.slice(start, at);
  };
  const quotedString = () => {
    let value = '';
    at += 1; // the opening quote
    while (at < header.length && header[at] !== '"') {
      if (header[at] === '\\' && at + 1 < header.length) at += 1;
      value += header[at];
      at += 1;
    }
    at += 1; // the closing quote
    return value;
  };
  while (at < header.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (!scheme) {
      at += 1; // a stray character: skip it rather than loop
      continue;
    }
    const params: Record<string, string> = {};
    challenges.push({ scheme: scheme.toLowerCase(), params });
    for (;;) {
      skip(/[\s,]/);
      const mark = at;
      const name = token();
      skip(/\s/);
      // Not `name=value` (or a token68's trailing `==`): the next challenge starts here.
      if (!name || header[at] !== '=' || header[at + 1] === '=') {
        at = mark;
        break;
      }
      at += 1;
      skip(/\s/);
      params[name.toLowerCase()] = header[at] === '"' ? quotedString() : token();
    }
  }
  return challenges;
}

/** Entra base64-encodes `claims` in resource challenges; a raw JSON value is accepted too. */
function decodedClaims(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value.trimStart().startsWith('{')) return value;
  try {
    const text = Buffer.from(value, 'base64').toString('utf8');
    JSON.parse(text);
    return text;
  } catch {
    return undefined;
  }
}

/**
 * Reads the `Bearer` challenge of a `WWW-Authenticate` header (the first, when there are several challenges), for
 * clients of this API and for calls to downstream APIs: `error`, the decoded `claims`, `scope`, `authorization_uri`.
 * Undefined when there is no `Bearer` challenge.
 */
export function parseWwwAuthenticate(header: string | null | undefined): BearerChallengeParams | undefined {
  if (!header) return undefined;
  const bearer = challengesOf(header).find((challenge) => challenge.scheme === 'bearer');
  if (!bearer) return undefined;
  const { params } = bearer;
  return {
    params,
    error: params.error,
    errorDescription: params.error_description,
    claims: decodedClaims(params.claims),
    scope: params.scope,
    authorizationUri: params.authorization_uri,
    realm: params.realm,
  };
}
