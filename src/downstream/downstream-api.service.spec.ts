import type { ResolvedOboOptions } from '../config/resolve-options.js';
import { resolveOboOptions } from '../config/resolve-options.js';
import type { TokenAcquisitionService } from '../exchange/token-acquisition.service.js';
import { DownstreamApiService } from './downstream-api.service.js';

function service(fetchImpl: typeof fetch) {
  const options: ResolvedOboOptions = resolveOboOptions({
    tenantId: '11111111-1111-1111-1111-111111111111',
    clientId: '22222222-2222-2222-2222-222222222222',
    downstreamApis: {
      profile: { baseUrl: 'https://profile.example.com', scopes: ['api://profile/Profile.Read', 'api://profile/Profile.Write'] },
      reports: { baseUrl: 'https://reports.example.com', scopes: ['api://reports/Reports.Read'], appToken: true },
    },
    downstreamFetch: fetchImpl,
  });
  const calls: unknown[][] = [];
  const tokens = {
    acquireTokenOnBehalfOf: async (...args: unknown[]) => (calls.push(['obo', ...args]), { accessToken: 'user-token' }),
    acquireTokenForApp: async (...args: unknown[]) => (calls.push(['app', ...args]), { accessToken: 'app-token' }),
  } as unknown as TokenAcquisitionService;
  return { apis: new DownstreamApiService(options, tokens), calls };
}

describe('DownstreamApiService', () => {
  const sent: string[] = [];
  const fetchImpl = (async (input: URL, init: RequestInit) => {
    sent.push(`${String(input)} ${new Headers(init.headers).get('authorization')}`);
    return Response.json({});
  }) as unknown as typeof fetch;

  it('forUser exchanges On-Behalf-Of with the configured scopes; forApp uses client credentials in the given tenant', async () => {
    const { apis, calls } = service(fetchImpl);
    await apis.forUser('incoming-token', 'profile').json('me');
    await apis.forApp('reports', { tenantId: '33333333-3333-3333-3333-333333333333' }).json('daily');
    expect(calls).toEqual([
      ['obo', 'incoming-token', 'api://profile/Profile.Read api://profile/Profile.Write', {}],
      ['app', 'api://reports/.default', { tenantId: '33333333-3333-3333-3333-333333333333' }],
    ]);
    expect(sent.slice(-2)).toEqual(['https://profile.example.com/me Bearer user-token', 'https://reports.example.com/daily Bearer app-token']);
  });

  it('forUser on an appToken API gives the app client; forApp on a user API and unknown names are TypeErrors', async () => {
    const { apis, calls } = service(fetchImpl);
    await apis.forUser('incoming-token', 'reports').json('x');
    expect(calls[0]![0]).toBe('app');
    expect(() => apis.forApp('profile')).toThrow("DownstreamApiService.forApp: 'profile' is called on behalf of a user; configure appToken: true for it, or use forUser");
    expect(() => apis.forUser('t', 'grpah')).toThrow("No downstream API named 'grpah' is configured (downstreamApis: profile, reports)");
  });
});
