import { EmulatorPolicies } from './policies.js';
import type { RecordedRequest } from './request-log.js';
import { statusPage, type StatusPageInput } from './status-page.js';
import { CONTOSO_ID, twoTenantDirectory } from './unit-fixtures.spec.fixtures.js';

const MARKUP = '<script>alert("x")</script>';

function input(overrides: Partial<StatusPageInput> = {}): StatusPageInput {
  const { directory } = twoTenantDirectory();
  directory.addUser({ tenantId: CONTOSO_ID, username: 'mallory', displayName: MARKUP });
  directory.addApp({ tenantId: CONTOSO_ID, displayName: 'Web', secrets: ['s3cr3t-value'] });
  const request: RecordedRequest = { atMs: Date.UTC(2030, 0, 1), method: 'POST', path: `/common/${MARKUP}`, endpoint: 'unknown', tenant: 'common', clientId: MARKUP, scope: MARKUP, status: 404 };
  const pageHit: RecordedRequest = { atMs: Date.UTC(2030, 0, 1), method: 'GET', path: '/', endpoint: 'page', tenant: '', status: 200 };
  return { authorityHost: 'https://127.0.0.1:44321', directory, policies: new EmulatorPolicies(directory), faults: [], requests: [request, pageHit], showSecrets: false, ...overrides };
}

describe('statusPage', () => {
  it('escapes every value that came from a caller or a test: no markup of theirs reaches the page', () => {
    const html = statusPage(input());
    expect(html).not.toContain(MARKUP);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('hides secrets unless asked, and says how many there are', () => {
    expect(statusPage(input())).not.toContain('s3cr3t-value');
    expect(statusPage(input())).toContain('1 (hidden)');
    expect(statusPage(input({ showSecrets: true }))).toContain('s3cr3t-value');
  });

  it('leaves out its own requests (it reloads itself), and links each tenant to its discovery document', () => {
    const html = statusPage(input());
    expect(html).not.toMatch(/<td>page<\/td>/);
    expect(html).toContain(`href="https://127.0.0.1:44321/${CONTOSO_ID}/v2.0/.well-known/openid-configuration"`);
    expect(html).toContain('<meta http-equiv="refresh" content="2">');
  });

  it('lists authentication-context policies with their context and the users they apply to', () => {
    const base = input();
    const policy = base.policies.requireAuthenticationContext({ context: 'c7', users: ['mallory@contoso.onmicrosoft.com'] });
    const html = statusPage(base);
    expect(html).toContain(`<td>Authentication context c7: mfa</td><td>sign-ins asking for it</td><td>mallory@contoso.onmicrosoft.com</td><td><code>${policy.id}</code></td>`);
  });

  it('lists queued faults with what they match and how many uses are left', () => {
    const html = statusPage(input({ faults: [{ fault: { type: 'server-error', status: 503 }, remaining: 3, match: { endpoint: 'discovery', clientId: MARKUP } }] }));
    expect(html).toMatch(/<td>server-error<\/td><td>discovery<\/td><td><\/td><td>&lt;script&gt;.*<\/td><td>3<\/td>/);
  });
});
