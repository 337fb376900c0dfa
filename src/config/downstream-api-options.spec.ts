import { OboConfigurationError } from '../errors/obo-errors.js';
import { resolveOboOptions } from './resolve-options.js';
import { looksLikeApiName } from './downstream-api-options.js';

const BASE = { tenantId: '11111111-1111-1111-1111-111111111111', clientId: '22222222-2222-2222-2222-222222222222' };

function problemsOf(extra: Record<string, unknown>): readonly string[] {
  try {
    resolveOboOptions({ ...BASE, ...extra } as never);
  } catch (error) {
    if (error instanceof OboConfigurationError) return error.problems;
    throw error;
  }
  return [];
}

describe('downstreamApis, downstreamFetch, downstreamTimeoutMs, clientCapabilities options', () => {
  it('resolves named APIs: base URL with one trailing slash, app tokens as {resource}/.default', () => {
    const resolved = resolveOboOptions({
      ...BASE,
      downstreamApis: {
        graph: { baseUrl: 'https://graph.microsoft.com/v1.0', scopes: ['User.Read'] },
        reports: { baseUrl: 'http://127.0.0.1:9000/api/', scopes: ['api://reports/Reports.Read'], appToken: true },
      },
      clientCapabilities: ['cp1', 'cp1'],
    });
    expect(resolved.downstreamApis.get('graph')).toEqual({ name: 'graph', baseUrl: 'https://graph.microsoft.com/v1.0/', scopes: ['User.Read'], scopeString: 'User.Read', appToken: false });
    expect(resolved.downstreamApis.get('reports')).toEqual({ name: 'reports', baseUrl: 'http://127.0.0.1:9000/api/', scopes: ['api://reports/.default'], scopeString: 'api://reports/.default', appToken: true });
    expect(resolved.clientCapabilities).toEqual(['cp1']);
    expect(resolved.downstreamTimeoutMs).toBe(30_000);
    expect(resolved.downstreamFetch).toBe(globalThis.fetch);
  });

  it('refuses http: off loopback, scopes of two resources, bad names, unknown keys and bad kinds, all at once', () => {
    expect(
      problemsOf({
        downstreamApis: {
          plain: { baseUrl: 'http://api.example.com', scopes: ['api://a/Read'] },
          mixed: { baseUrl: 'https://a.example.com', scopes: ['api://a/Read', 'User.Read'] },
          'api://x': { baseUrl: 'https://x.example.com', scopes: ['api://x/Read'] },
          typo: { baseUrl: 'https://t.example.com', scope: ['api://t/Read'] },
          oidc: { baseUrl: 'https://o.example.com', scopes: ['openid'] },
        },
        downstreamFetch: 'fetch',
        downstreamTimeoutMs: 0,
        clientCapabilities: 'cp1',
      }),
    ).toEqual([
      'downstreamApis.plain.baseUrl must be an https: URL (http: only on loopback: localhost, 127.0.0.1, [::1]); bearer tokens must not travel in clear',
      'downstreamApis.mixed.scopes: scopes of api://a and https://graph.microsoft.com: one token is for one resource, so acquire one token per downstream API',
      "downstreamApis: 'api://x' is not a usable name: start with a letter, then letters, digits, '_' or '-' (no '.', '/' or ':', which scopes have)",
      "downstreamApis.typo: unknown option 'scope'",
      'downstreamApis.typo.scopes must be a non-empty array of scopes of one resource',
      expect.stringContaining('downstreamApis.oidc.scopes: openid: OpenID Connect scopes'),
      'downstreamFetch must be a fetch function',
      'downstreamTimeoutMs must be an integer from 1 to 600000, got 0',
      "clientCapabilities must be an array of capability names, e.g. ['cp1']",
    ]);
  });

  it('tells a name from a scope: a word without . / or : is a name', () => {
    expect(['profile', 'graph', 'tasks_api', 'Reports-2'].every(looksLikeApiName)).toBe(true);
    expect(['User.Read', 'api://x/Read', 'https://graph.microsoft.com/.default', '2fa', '', 'a b'].some(looksLikeApiName)).toBe(false);
  });
});
