import { DownstreamApiClient, type DownstreamTokenSource } from './downstream-api-client.js';
import { DownstreamApiError } from './downstream-api-error.js';

const API = { name: 'profile', baseUrl: 'https://profile.example.com/v1/', scopes: ['api://profile/Profile.Read'], scopeString: 'api://profile/Profile.Read', appToken: false };
const CLAIMS = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}';
// A resource's CAE challenge: 401 with error="insufficient_claims" and the claims base64-encoded
// (https://learn.microsoft.com/entra/identity-platform/claims-challenge).
const CHALLENGE = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="${Buffer.from(CLAIMS).toString('base64')}"`;

interface Sent {
  url: string;
  authorization: string | null;
  body: unknown;
}

function harness(answers: Array<() => Response>, { answersClaims = true } = {}) {
  const sent: Sent[] = [];
  const claimsAsked: Array<string | undefined> = [];
  let issued = 0;
  const tokens: DownstreamTokenSource = {
    answersClaims,
    token: async (claims) => {
      claimsAsked.push(claims);
      issued += 1;
      return `token-${issued}`;
    },
  };
  const fetchImpl = (async (input: URL, init: RequestInit) => {
    sent.push({ url: String(input), authorization: new Headers(init.headers).get('authorization'), body: init.body });
    const answer = answers.shift();
    if (!answer) throw new Error('no more answers');
    return answer();
  }) as unknown as typeof fetch;
  const client = new DownstreamApiClient(API, tokens, { fetch: fetchImpl, timeoutMs: 10_000 });
  return { client, sent, claimsAsked };
}

const ok = (body: unknown) => () => Response.json(body);
const challenged = () => () => new Response('{"error":"claims"}', { status: 401, headers: { 'www-authenticate': CHALLENGE } });

describe('DownstreamApiClient', () => {
  it('calls paths under the base URL with the bearer token', async () => {
    const { client, sent } = harness([ok({ id: 1 })]);
    expect(await client.json('/me?x=1')).toEqual({ id: 1 });
    expect(sent).toEqual([{ url: 'https://profile.example.com/v1/me?x=1', authorization: 'Bearer token-1', body: undefined }]);
  });

  it('refuses absolute URLs and paths that leave the base URL, so the token goes nowhere else', async () => {
    const { client, sent } = harness([]);
    for (const path of ['https://evil.example.com/x', '//evil.example.com/x', '../../admin', 'javascript:alert(1)']) await expect(client.fetch(path)).rejects.toThrow(TypeError);
    expect(sent).toEqual([]);
  });

  it('answers a claims challenge with one exchange carrying its claims and one retry', async () => {
    const { client, sent, claimsAsked } = harness([challenged(), ok({ fresh: true })]);
    expect(await client.json('me', { method: 'POST', body: '{"a":1}' })).toEqual({ fresh: true });
    expect(claimsAsked).toEqual([undefined, CLAIMS]);
    expect(sent.map((request) => [request.authorization, request.body])).toEqual([
      ['Bearer token-1', '{"a":1}'],
      ['Bearer token-2', '{"a":1}'],
    ]);
  });

  it('never loops: a second challenge is the answer', async () => {
    const { client, claimsAsked } = harness([challenged(), challenged()]);
    const response = await client.fetch('me');
    expect(response.status).toBe(401);
    expect(claimsAsked).toHaveLength(2);
    await expect(harness([challenged(), challenged()]).client.json('me')).rejects.toMatchObject({ status: 401, apiName: 'profile', reason: 'status' });
  });

  it('passes the challenge on for a stream body (not buffered) and for app tokens (no user to sign in)', async () => {
    const stream = harness([challenged()]);
    const body = new ReadableStream({ start: (controller) => controller.close() });
    expect((await stream.client.fetch('me', { method: 'POST', body, duplex: 'half' } as RequestInit)).status).toBe(401);
    expect(stream.claimsAsked).toEqual([undefined]);
    const app = harness([challenged()], { answersClaims: false });
    expect((await app.client.fetch('me')).status).toBe(401);
    expect(app.claimsAsked).toEqual([undefined]);
  });

  it('a 401 without insufficient_claims is not retried', async () => {
    const { client, claimsAsked } = harness([() => new Response('', { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })]);
    expect((await client.fetch('me')).status).toBe(401);
    expect(claimsAsked).toEqual([undefined]);
  });

  it('throws DownstreamApiError on a non-2xx with an excerpt that holds no token', async () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const { client } = harness([() => new Response(`failed for Bearer token-1 and ${jwt} ${'x'.repeat(1000)}`, { status: 500 })]);
    const error = (await client.json('me').catch((caught: unknown) => caught)) as DownstreamApiError;
    expect(error).toBeInstanceOf(DownstreamApiError);
    expect(error).toMatchObject({ status: 500, apiName: 'profile', message: "The downstream API 'profile' answered 500." });
    expect(error.bodyExcerpt).not.toContain(jwt);
    expect(error.bodyExcerpt.length).toBeLessThanOrEqual(500);
  });

  it('turns a timeout into a DownstreamApiError and keeps the caller’s own abort', async () => {
    const hanging = ((_input: URL, init: RequestInit) =>
      new Promise((_resolve, reject) => {
        // As fetch does: an already-aborted signal rejects at once.
        if (init.signal!.aborted) reject(init.signal!.reason);
        init.signal!.addEventListener('abort', () => reject(init.signal!.reason));
      })) as unknown as typeof fetch;
    const tokens = { answersClaims: true, token: async () => 'token' };
    const client = new DownstreamApiClient(API, tokens, { fetch: hanging, timeoutMs: 1 });
    await expect(client.fetch('me')).rejects.toMatchObject({ reason: 'timeout', status: 0 });
    const patient = new DownstreamApiClient(API, tokens, { fetch: hanging, timeoutMs: 60_000 });
    const controller = new AbortController();
    const pending = patient.fetch('me', { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(pending).rejects.toThrow('caller gave up');
  });
});
