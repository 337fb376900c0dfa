/**
 * Client capabilities a client declares in the `claims` request parameter (`{"access_token":{"xms_cc":{"values":
 * ["cp1"]}}}`); Entra copies them into the access token's `xms_cc`. Malformed `claims` declare nothing.
 */
export function clientCapabilitiesFrom(claimsParameter: string | null | undefined): string[] {
  if (!claimsParameter) return [];
  try {
    const parsed = JSON.parse(claimsParameter) as { access_token?: { xms_cc?: { values?: unknown } } };
    const values = parsed.access_token?.xms_cc?.values;
    return Array.isArray(values) ? values.filter((value): value is string => typeof value === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Whether the `claims` parameter carries a challenge that always takes a second factor: Conditional Access `capolids`
 * or `polids`, or `amr`. An `acrs` request is judged by the authentication-context policies instead
 * (`authenticationContextsFrom`): with no policy bound to the context, Entra adds it to the token without a prompt.
 */
export function isClaimsChallenge(claimsParameter: string | null | undefined): boolean {
  const requested = requestedClaims(claimsParameter);
  return requested !== undefined && ('capolids' in requested || 'polids' in requested || 'amr' in requested);
}

/** Authentication context ids are `c1` to `c99` (https://learn.microsoft.com/graph/api/resources/authcontext). */
const AUTHENTICATION_CONTEXT_ID = /^c([1-9]|[1-9][0-9])$/;

/**
 * The authentication contexts a `claims` parameter asks for (`{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`,
 * or `values: [...]`, on the access or the ID token), deduplicated, lower-cased; ids outside `c1`-`c99` are ignored.
 */
export function authenticationContextsFrom(claimsParameter: string | null | undefined): string[] {
  const acrs = requestedClaims(claimsParameter)?.acrs as { value?: unknown; values?: unknown } | null | undefined;
  if (typeof acrs !== 'object' || acrs === null) return [];
  const candidates = [acrs.value, ...(Array.isArray(acrs.values) ? acrs.values : [])];
  const ids = candidates.filter((value): value is string => typeof value === 'string').map((value) => value.toLowerCase());
  return [...new Set(ids.filter((id) => AUTHENTICATION_CONTEXT_ID.test(id)))];
}

/** The claims asked for on the access and the ID token, merged; undefined for a missing or malformed parameter. */
function requestedClaims(claimsParameter: string | null | undefined): Record<string, unknown> | undefined {
  if (!claimsParameter) return undefined;
  try {
    const parsed = JSON.parse(claimsParameter) as { access_token?: Record<string, unknown>; id_token?: Record<string, unknown> } | null;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    return { ...parsed.access_token, ...parsed.id_token };
  } catch {
    return undefined;
  }
}
