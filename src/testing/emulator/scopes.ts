import { MICROSOFT_GRAPH_RESOURCE, type EmulatorApp, type EmulatorDirectory } from './directory.js';
import { entraErrors } from './entra-errors.js';

/** Scopes that ask for sign-in artefacts (ID token, refresh token), not for access to a resource. */
export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

export interface RequestedScopes {
  /** The one resource the request is for; absent when only OIDC scopes were asked. */
  resource?: EmulatorApp;
  /** How the client named the resource (an App ID URI or the client id): v1 tokens use it as `aud`. */
  resourcePrefix?: string;
  /** Scope names on the resource, without its prefix; `['.default']` for the static permissions. */
  scopes: string[];
  oidc: Set<string>;
}

/**
 * The registered spelling of `name` among `registered`, compared case-insensitively as Entra compares scope names
 * (`user.read` is `User.Read`), or undefined.
 */
export function canonicalScope(registered: readonly string[], name: string): string | undefined {
  const key = name.toLowerCase();
  return registered.find((scope) => scope.toLowerCase() === key);
}

/** Whether every one of `scopes` is among `granted`, ignoring case. */
export function includesAllScopes(granted: readonly string[], scopes: readonly string[]): boolean {
  return scopes.every((scope) => canonicalScope(granted, scope) !== undefined);
}

export function splitScopeParameter(scope: string | null): string[] {
  return (scope ?? '').split(/\s+/).filter((value) => value.length > 0);
}

/**
 * Resolves a `scope` parameter the way Entra does: OIDC scopes aside, every scope names one resource by prefix
 * (`api://{id}/access_as_user`, `{clientId}/.default`), and all of them the same resource.
 */
export function resolveRequestedScopes(scope: string | null, directory: EmulatorDirectory, tenantId: string): RequestedScopes {
  const oidc = new Set<string>();
  const names: string[] = [];
  let resource: EmulatorApp | undefined;
  let resourcePrefix: string | undefined;
  for (const value of splitScopeParameter(scope)) {
    if (OIDC_SCOPES.has(value.toLowerCase())) {
      oidc.add(value.toLowerCase());
      continue;
    }
    const slash = value.lastIndexOf('/');
    // A bare scope name means Microsoft Graph (`User.Read` is `https://graph.microsoft.com/User.Read`).
    const prefix = slash > 0 ? value.slice(0, slash) : MICROSOFT_GRAPH_RESOURCE;
    const requestedName = slash > 0 ? value.slice(slash + 1) : value;
    const app = directory.findApp(prefix);
    if (!app || !directory.isAppAvailableIn(app, tenantId)) throw entraErrors.resourceNotFound(prefix, tenantId);
    if (resource && resource.clientId !== app.clientId) throw entraErrors.scopesForSeveralResources();
    resource = app;
    resourcePrefix ??= prefix;
    // Entra compares scope names without regard to case and answers with the registered spelling.
    const name = requestedName.toLowerCase() === '.default' ? '.default' : canonicalScope(app.scopes, requestedName);
    if (name === undefined) throw entraErrors.invalidScope(value);
    if (!names.includes(name)) names.push(name);
  }
  if (names.includes('.default') && names.length > 1) throw entraErrors.invalidScope(names.map((name) => `${resourcePrefix}/${name}`).join(' '));
  return { ...(resource ? { resource, resourcePrefix } : {}), scopes: names, oidc };
}
