import type { INestApplication } from '@nestjs/common';
import type { OboModuleOptions } from '../../../src/index.js';
import type { EmulatorUser, EntraEmulator, IssueAccessTokenOptions } from '../../../src/testing/index.js';
import { startTestApp, type AdapterName } from './test-app.js';

/** The grant types, as the emulator records them: the kit's constants, re-exported for the e2e suites. */
export { CLIENT_CREDENTIALS_GRANT, JWT_BEARER_GRANT } from '../../../src/testing/index.js';
export { userToken } from '../../support/emulator.js';

/** What a test needs of an HTTP answer: read once, so headers and body can be asserted on freely. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  json: Record<string, unknown> | undefined;
}

/** GET `path` on the app over real HTTP, with `token` as the bearer token when given. */
export async function get(baseUrl: string, path: string, token?: string): Promise<HttpAnswer> {
  const response = await fetch(`${baseUrl}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** An app-only token of the daemon for the middle-tier API (roles, no scp). */
export function daemonToken(entra: EntraEmulator, extra: Partial<IssueAccessTokenOptions> = {}): Promise<string> {
  const { apps } = entra.defaults;
  return entra.issueAccessToken({ client: apps.daemon.app, resource: apps.middleTierApi.app, roles: ['Tasks.Read.All'], ...extra });
}

/** The auth-params of a `WWW-Authenticate: Bearer ...` challenge (quoted-string values unescaped). */
export function challengeParams(header: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  if (!header) return params;
  for (const match of header.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/gi)) params[match[1]!] = match[2]!.replace(/\\(.)/g, '$1');
  return params;
}

/** Starts a test app with its own options, runs `body`, and always closes the app (so a failing test leaks nothing). */
export async function withApp<T>(adapter: AdapterName, options: OboModuleOptions, body: (app: { app: INestApplication; url: string }) => Promise<T>): Promise<T> {
  const started = await startTestApp(adapter, options);
  try {
    return await body(started);
  } finally {
    await started.app.close();
  }
}

/** Creates `count` users in the primary tenant with distinct sign-in names (for many-user tests). */
export function addUsers(entra: EntraEmulator, prefix: string, count: number): EmulatorUser[] {
  const tenantId = entra.defaults.tenants.primary.id;
  return Array.from({ length: count }, (_, index) => entra.directory.addUser({ tenantId, username: `${prefix}${index}`, displayName: `${prefix} Person ${index}` }));
}

/**
 * Values that must never appear in a response body or header: the caller's token, and claim values that identify the
 * user (display name, sign-in name, object id). Returns the offending labels, so a failure says what leaked.
 */
export function leakedValues(answer: HttpAnswer, secrets: Record<string, string | undefined>): string[] {
  const headerText = [...answer.headers.entries()].map(([name, value]) => `${name}: ${value}`).join('\n');
  const everything = `${headerText}\n${answer.text}`;
  return Object.entries(secrets)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1].length > 0 && everything.includes(entry[1]))
    .map(([label]) => label);
}

/** The sensitive values of one user and their token, labelled for `leakedValues`. */
export function userSecrets(user: EmulatorUser, token: string): Record<string, string> {
  return { token, oid: user.id, name: user.displayName, username: user.username };
}
