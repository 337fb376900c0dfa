// `GET /` on the emulator: what it holds (tenants, users, apps, policies), the faults queued and the requests it
// received, for a person looking at a test run. Every value is HTML-escaped: request paths, client ids, scopes and
// display names come from whoever called. Secrets are shown only when asked (`/?secrets=show`).
import type { EmulatorDirectory } from './directory.js';
import type { QueuedFaultView } from './faults.js';
import { escapeHtml } from './http.js';
import type { EmulatorPolicies } from './policies.js';
import type { RecordedRequest } from './request-log.js';

/** How often the page reloads itself, in seconds. */
export const STATUS_PAGE_REFRESH_SEC = 2;
/** The newest requests shown; the log itself keeps far more (`entra.requests`). */
const SHOWN_REQUESTS = 200;

export interface StatusPageInput {
  authorityHost: string;
  directory: EmulatorDirectory;
  policies: EmulatorPolicies;
  faults: readonly QueuedFaultView[];
  requests: readonly RecordedRequest[];
  showSecrets: boolean;
}

const STYLE = `
  body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; background: #fafafa; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
  p.note { color: #605e5c; margin: 0 0 1rem; font-size: .9rem; }
  table { border-collapse: collapse; width: 100%; background: #fff; font-size: .85rem; }
  th, td { border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
  th { background: #f0f0f0; } td.empty { color: #8a8886; font-style: italic; }
  code { font-family: ui-monospace, monospace; font-size: .8rem; }
  tr.error td { background: #fde7e9; } tr.fault td { background: #fff4ce; }
`;

const cell = (value: string | number | undefined | null): string => `<td>${value === undefined || value === null || value === '' ? '' : escapeHtml(String(value))}</td>`;
const code = (value: string): string => `<code>${escapeHtml(value)}</code>`;

function table(id: string, headers: string[], rows: string[]): string {
  const head = `<tr>${headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('')}</tr>`;
  const body = rows.length > 0 ? rows.join('\n') : `<tr><td class="empty" colspan="${headers.length}">none</td></tr>`;
  return `<table id="${id}">${head}\n${body}</table>`;
}

export function statusPage(input: StatusPageInput): string {
  const { authorityHost, directory, policies } = input;
  const tenants = directory.tenants.map((tenant) => {
    const discovery = `${authorityHost}/${tenant.id}/v2.0/.well-known/openid-configuration`;
    return `<tr>${cell(tenant.displayName)}<td>${code(tenant.id)}</td>${cell(tenant.domain)}<td><a href="${escapeHtml(discovery)}">discovery document</a></td></tr>`;
  });
  const users = directory.users.map((user) => `<tr>${cell(user.displayName)}${cell(user.username)}<td>${code(user.id)}</td>${cell(directory.findTenant(user.tenantId)?.displayName)}${cell(user.homeTenantId ? 'guest' : 'member')}</tr>`);
  const apps = directory.apps.map((app) => {
    const secrets = input.showSecrets ? app.secrets.map(code).join('<br>') : app.secrets.length > 0 ? `${app.secrets.length} (hidden)` : '';
    return `<tr>${cell(app.displayName)}<td>${code(app.clientId)}</td>${cell(app.identifierUris.join(' '))}${cell(app.scopes.join(' '))}${cell(app.appRoles.join(' '))}<td>${secrets}</td>${cell(app.certificates.length || '')}</tr>`;
  });
  const { conditionalAccess, consentDenials, authenticationContexts } = policies.all;
  const policyRows = [
    ...conditionalAccess.map((policy) => `<tr>${cell(`Conditional Access: ${policy.grant}`)}${cell(directory.findApp(policy.resource)?.displayName ?? policy.resource)}${cell(policy.users?.map((id) => directory.findUser(id)?.username ?? id).join(', ') ?? 'everyone')}<td>${code(policy.id)}</td></tr>`),
    ...authenticationContexts.map((policy) => `<tr>${cell(`Authentication context ${policy.context}: mfa`)}${cell('sign-ins asking for it')}${cell(policy.users?.map((id) => directory.findUser(id)?.username ?? id).join(', ') ?? 'everyone')}<td>${code(policy.id)}</td></tr>`),
    ...consentDenials.map((denial) => `<tr>${cell(`No consent: ${directory.findApp(denial.client)?.displayName ?? denial.client}`)}${cell(directory.findApp(denial.resource)?.displayName ?? denial.resource)}${cell(denial.scopes?.join(' ') ?? 'every scope')}<td>${code(denial.id)}</td></tr>`),
  ];
  const faults = input.faults.map((fault) => `<tr>${cell(fault.fault.type)}${cell(fault.match.endpoint ?? 'token')}${cell(fault.match.grantType)}${cell(fault.match.clientId)}${cell(fault.remaining)}</tr>`);
  const requests = input.requests
    .filter((request) => request.endpoint !== 'page')
    .slice(-SHOWN_REQUESTS)
    .reverse()
    .map((request) => {
      const kind = request.fault ? 'fault' : request.status >= 400 ? 'error' : '';
      return `<tr class="${kind}">${cell(new Date(request.atMs).toISOString())}${cell(request.method)}${cell(request.endpoint)}${cell(request.path)}${cell(request.grantType)}${cell(request.clientId)}${cell(request.scope)}${cell(request.status || '')}${cell(request.fault)}</tr>`;
    });
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta http-equiv="refresh" content="${STATUS_PAGE_REFRESH_SEC}">
<title>Entra ID emulator</title><style>${STYLE}</style></head>
<body>
<h1>Entra ID emulator</h1>
<p class="note">A local identity provider for tests, at ${code(authorityHost)}. Not Microsoft. This page reloads every ${STATUS_PAGE_REFRESH_SEC} s.
${input.showSecrets ? '<a href="/">Hide secrets</a>' : '<a href="/?secrets=show">Show secrets</a>'}</p>
<h2>Tenants</h2>${table('tenants', ['name', 'id', 'domain', ''], tenants)}
<h2>Users</h2>${table('users', ['name', 'sign-in name', 'object id', 'tenant', 'kind'], users)}
<h2>Apps</h2>${table('apps', ['name', 'client id', 'App ID URIs', 'scopes', 'app roles', 'secrets', 'certificates'], apps)}
<h2>Policies</h2>${table('policies', ['policy', 'resource', 'applies to', 'id'], policyRows)}
<h2>Queued faults</h2>${table('faults', ['fault', 'endpoint', 'grant type', 'client', 'remaining'], faults)}
<h2>Requests (newest first)</h2>${table('requests', ['time', 'method', 'endpoint', 'path', 'grant type', 'client', 'scopes', 'status', 'fault'], requests)}
</body></html>`;
}
