/**
 * The rules a scope list for one token request must follow, in one place: the decorators' bootstrap check and the
 * service apply the same ones. Entra issues one token for one resource; a request that breaks these rules fails at
 * Entra with `invalid_scope` / `invalid_request`, far from the line that caused it.
 */

/** Microsoft Graph: Entra reads a scope without a resource (`User.Read`) as a Graph scope. */
const GRAPH_RESOURCE = 'https://graph.microsoft.com';
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
/** OpenID Connect scopes: MSAL adds them to every request itself; asking for them is a mistake. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access']);

export type ScopeFlow = 'on-behalf-of' | 'app';

/** A scope list from a string (space-separated) or an array; blanks dropped. */
export function toScopeList(scopes: string | readonly string[]): string[] {
  const list = typeof scopes === 'string' ? scopes.split(' ') : [...scopes];
  return list.map((scope) => (typeof scope === 'string' ? scope.trim() : '')).filter(Boolean);
}

/** Scopes compared as Entra compares them: case-insensitive, order and duplicates irrelevant. */
export function normalizeScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map((scope) => scope.trim().toLowerCase()).filter((scope) => scope.length > 0))].sort();
}

/**
 * The resource a scope belongs to, lower-cased: everything before the last `/` (`api://profile/Read` →
 * `api://profile`), with Graph's names (its URI, its app id, or none at all) as one.
 */
export function resourceOf(scope: string): string {
  const slash = scope.lastIndexOf('/');
  const resource = slash < 0 ? GRAPH_RESOURCE : scope.slice(0, slash).toLowerCase().replace(/\/+$/, '');
  return resource === GRAPH_APP_ID ? GRAPH_RESOURCE : resource;
}

/** What is wrong with `scopes` for one token request of `flow`; empty when nothing is. Names scopes, never tokens. */
export function scopeListProblems(scopes: readonly string[], flow: ScopeFlow): string[] {
  const problems: string[] = [];
  if (scopes.length === 0) return ['at least one scope is required'];
  const oidc = scopes.filter((scope) => OIDC_SCOPES.has(scope.toLowerCase()));
  if (oidc.length > 0) problems.push(`${oidc.join(', ')}: OpenID Connect scopes are added by MSAL itself; list only the downstream API's scopes`);
  const named = scopes.filter((scope) => !OIDC_SCOPES.has(scope.toLowerCase()));
  const resources = [...new Set(named.map(resourceOf))];
  if (resources.length > 1) problems.push(`scopes of ${resources.join(' and ')}: one token is for one resource, so acquire one token per downstream API`);
  const defaults = named.filter((scope) => scope.toLowerCase().endsWith('/.default'));
  if (flow === 'app') {
    if (defaults.length !== named.length || named.length !== 1) problems.push("client credentials take exactly one '{resource}/.default' scope");
  } else if (defaults.length > 0 && defaults.length < named.length) {
    problems.push("'.default' cannot be combined with named scopes: it already stands for every permission the API was granted");
  }
  return problems;
}
