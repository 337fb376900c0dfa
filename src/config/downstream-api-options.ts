import { resourceOf, scopeListProblems } from '../scopes/downstream-scopes.js';
import type { Problems } from '../util/problems.js';

/** One downstream API the module calls by name: `downstreamApis: { profile: { baseUrl, scopes } }`. */
export interface DownstreamApiOptions {
  /** Where its paths start: an `https:` URL, or `http:` on loopback (a local stand-in). */
  baseUrl: string;
  /** Its delegated scopes (one resource); with `appToken: true`, its `{resource}/.default` or any scope of the resource. */
  scopes: string[];
  /** Call it as this API itself (client credentials with `{resource}/.default`) instead of on behalf of the caller. */
  appToken?: boolean;
}

/** A configured API, checked and normalised once at bootstrap. */
export interface ResolvedDownstreamApi {
  readonly name: string;
  /** The base URL with one trailing slash, so `new URL(path, baseUrl)` keeps its path. */
  readonly baseUrl: string;
  /** What each token request asks for: the delegated scopes, or the single `{resource}/.default` for an app token. */
  readonly scopes: readonly string[];
  /**
   * The same scopes as one space-separated string: what the token service is handed per request, since it prepares a
   * string once and then finds it by the string itself (an array it would re-key by its contents on every call).
   */
  readonly scopeString: string;
  readonly appToken: boolean;
}

/**
 * The rule that tells a configured API's name from a scope in `@DownstreamToken('...')`: a name is a word of letters,
 * digits, `_` and `-` (no `.`, `/` or `:`). Every scope Entra issues tokens for has one of those (`api://id/Scope`,
 * Graph's `User.Read`); the bare-word scopes (`openid`, `profile`, `email`, `offline_access`) are OpenID Connect
 * scopes, which On-Behalf-Of refuses anyway. So a name can never hide a valid scope, and a mistyped name is caught.
 */
export const API_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export function looksLikeApiName(value: unknown): value is string {
  return typeof value === 'string' && API_NAME_PATTERN.test(value);
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function baseUrlOf(value: unknown, name: string, problems: Problems): string | undefined {
  let url: URL;
  try {
    url = new URL(value as string);
  } catch {
    problems.add(`${name} must be an absolute URL like https://graph.microsoft.com/v1.0`);
    return undefined;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    problems.add(`${name} must be an https: URL (http: only on loopback: localhost, 127.0.0.1, [::1]); bearer tokens must not travel in clear`);
    return undefined;
  }
  if (url.search || url.hash || url.username || url.password) {
    problems.add(`${name} must not carry a query, a fragment or credentials`);
    return undefined;
  }
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

function apiOf(apiName: string, value: unknown, problems: Problems): ResolvedDownstreamApi | undefined {
  const label = `downstreamApis.${apiName}`;
  if (typeof value !== 'object' || value === null) {
    problems.add(`${label} must be an object { baseUrl, scopes, appToken? }`);
    return undefined;
  }
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) if (key !== 'baseUrl' && key !== 'scopes' && key !== 'appToken') problems.add(`${label}: unknown option '${key}'`);
  const baseUrl = baseUrlOf(input.baseUrl, `${label}.baseUrl`, problems);
  const appToken = problems.boolean(input.appToken, `${label}.appToken`, false);
  const scopes = input.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((scope) => typeof scope !== 'string' || scope.trim() === '')) {
    problems.add(`${label}.scopes must be a non-empty array of scopes of one resource`);
    return undefined;
  }
  const trimmed = scopes.map((scope: string) => scope.trim());
  const resources = [...new Set(trimmed.map(resourceOf))];
  // An app token is for the whole resource: its `/.default`, whichever of its scopes configuration names.
  const requested = appToken && resources.length === 1 ? [`${resources[0]}/.default`] : trimmed;
  for (const problem of scopeListProblems(requested, appToken ? 'app' : 'on-behalf-of')) problems.add(`${label}.scopes: ${problem}`);
  return baseUrl === undefined ? undefined : { name: apiName, baseUrl, scopes: requested, scopeString: requested.join(' '), appToken };
}

/** The named downstream APIs, each checked: a name by the rule above, a base URL, scopes of one resource. */
export function downstreamApisRule(value: unknown, problems: Problems): ReadonlyMap<string, ResolvedDownstreamApi> {
  const apis = new Map<string, ResolvedDownstreamApi>();
  if (value === undefined) return apis;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.add('downstreamApis must be an object mapping API names to { baseUrl, scopes, appToken? }');
    return apis;
  }
  for (const [apiName, api] of Object.entries(value)) {
    if (!looksLikeApiName(apiName)) {
      problems.add(`downstreamApis: '${apiName}' is not a usable name: start with a letter, then letters, digits, '_' or '-' (no '.', '/' or ':', which scopes have)`);
      continue;
    }
    const resolved = apiOf(apiName, api, problems);
    if (resolved) apis.set(apiName, resolved);
  }
  return apis;
}

/** `clientCapabilities`: what this API can handle, sent with every token request (`cp1`: CAE claims challenges). */
export function clientCapabilitiesRule(value: unknown, problems: Problems): readonly string[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((capability) => typeof capability === 'string' && /^[A-Za-z0-9_-]+$/.test(capability))) return [...new Set(value as string[])];
  problems.add("clientCapabilities must be an array of capability names, e.g. ['cp1']");
  return [];
}
