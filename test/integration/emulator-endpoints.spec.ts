// Nothing advertised that does not answer: every endpoint a discovery document lists is served by a row of the
// emulator's endpoint table (src/testing/emulator/endpoints.ts). An old device-code entry, listed but answered with
// 404, is what this walk exists to catch.
import { useEmulator } from '../support/emulator.js';

/** The methods Entra's endpoints take: the token endpoint only answers POST (RFC 6749 §3.2), the others GET. */
const POST_ONLY = new Set(['token_endpoint']);

describe('Entra ID emulator: what discovery advertises answers', () => {
  const entra = useEmulator();

  const segments = (): Array<[string, string]> => [
    ['a tenant GUID', entra.defaults.tenants.primary.id],
    ['a tenant domain', entra.defaults.tenants.primary.domain],
    ['common', 'common'],
    ['organizations', 'organizations'],
    ['consumers', 'consumers'],
  ];

  it.each(['v2.0/.well-known/openid-configuration', '.well-known/openid-configuration'])('every *_endpoint and *_uri of /{tenant}/%s answers non-404', async (documentPath) => {
    const unanswered: Array<{ label: string; field: string; status: number; endpoint: string | undefined }> = [];
    for (const [label, segment] of segments()) {
      const document = (await (await entra.fetch(`${entra.authorityHost}/${segment}/${documentPath}`)).json()) as Record<string, unknown>;
      const advertised = Object.entries(document).filter(
        (entry): entry is [string, string] => /_(endpoint|uri)$/.test(entry[0]) && typeof entry[1] === 'string' && entry[1].startsWith(entra.authorityHost),
      );
      // The walk must find the endpoints a client needs, or it proves nothing.
      expect(advertised.map(([field]) => field)).toEqual(expect.arrayContaining(['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'end_session_endpoint']));
      for (const [field, url] of advertised) {
        entra.clearRequests();
        const response = await entra.fetch(url, POST_ONLY.has(field) ? { method: 'POST', body: new URLSearchParams() } : {});
        await response.arrayBuffer();
        const endpoint = entra.requests[0]?.endpoint;
        if (response.status === 404 || endpoint === 'unknown') unanswered.push({ label, field, status: response.status, endpoint });
      }
    }
    expect(unanswered).toEqual([]);
  });

  it('a path no row serves is a 404 logged as unknown', async () => {
    entra.clearRequests();
    const response = await entra.fetch(`${entra.authorityHost}/common/oauth2/v2.0/devicecode`, { method: 'POST', body: new URLSearchParams() });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'not_found', error_description: 'The emulator has no POST /common/oauth2/v2.0/devicecode' });
    expect(entra.requests).toEqual([expect.objectContaining({ endpoint: 'unknown', status: 404 })]);
  });

  it('GET /health answers 200 {"status":"ok"}, logged without a tenant', async () => {
    entra.clearRequests();
    const response = await entra.fetch(`${entra.authorityHost}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(entra.requests).toEqual([expect.objectContaining({ endpoint: 'health', tenant: '', status: 200 })]);
  });
});
