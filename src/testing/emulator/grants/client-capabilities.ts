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

/** Whether the `claims` parameter carries a challenge to satisfy: Conditional Access `capolids` or `polids`, `acrs`, or `amr`. */
export function isClaimsChallenge(claimsParameter: string | null | undefined): boolean {
  if (!claimsParameter) return false;
  try {
    const parsed = JSON.parse(claimsParameter) as { access_token?: Record<string, unknown>; id_token?: Record<string, unknown> };
    const requested = { ...parsed.access_token, ...parsed.id_token };
    return 'capolids' in requested || 'polids' in requested || 'acrs' in requested || 'amr' in requested;
  } catch {
    return false;
  }
}
