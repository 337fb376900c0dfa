import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Body, Controller, Get, Module, Post, UseGuards } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { decodeJwt } from 'jose';
import {
  CurrentUser,
  DownstreamApi,
  DownstreamApiClient,
  DownstreamApiError,
  DownstreamApiService,
  DownstreamToken,
  OboAuthGuard,
  OboModule,
  RequireAuthContext,
  parseWwwAuthenticate,
  type EntraPrincipal,
  type OboModuleOptions,
} from '../../src/index.js';
import type { EmulatorApp, EntraEmulator } from '../../src/testing/index.js';
import { useEmulator, userToken } from '../support/emulator.js';
import { get, JWT_BEARER_GRANT, CLIENT_CREDENTIALS_GRANT } from './support/http-calls.js';
import { ADAPTERS, middleTierOptions } from './support/test-app.js';
import { startNestApp } from './support/nest-app.js';

/**
 * A downstream API on loopback: it reads the bearer token (the emulator signed it; which token arrives is what these
 * tests check, so it is decoded, not verified) and answers with its claims. `/cae/*` answers a token it was told to
 * distrust with a CAE claims challenge, as Entra-protected resources do:
 * `401`, `WWW-Authenticate: Bearer realm="", authorization_uri=..., error="insufficient_claims", claims="{base64}"`
 * (https://learn.microsoft.com/entra/identity-platform/claims-challenge, "Claims challenge header format").
 */
class DownstreamStandIn {
  readonly distrusted = new Set<string>();
  readonly received: Array<{ path: string; uti: unknown; body: string }> = [];
  readonly challengeClaims = JSON.stringify({ access_token: { nbf: { essential: true, value: String(Math.floor(Date.now() / 1000)) } } });
  private server: Server | undefined;
  url = '';

  async start(authorityHost: string): Promise<void> {
    this.server = createServer((request, response) => {
      void this.answer(request, authorityHost).then(({ status, body, headers }) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async answer(request: IncomingMessage, authorityHost: string): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    let body = '';
    for await (const chunk of request) body += String(chunk);
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token) return { status: 401, body: { error: 'no token' }, headers: { 'www-authenticate': 'Bearer' } };
    const claims = decodeJwt(token);
    const path = request.url ?? '';
    this.received.push({ path, uti: claims.uti, body });
    if (path.startsWith('/cae/') && this.distrusted.has(String(claims.uti))) {
      const challenge = `Bearer realm="", authorization_uri="${authorityHost}/common/oauth2/authorize", error="insufficient_claims", claims="${Buffer.from(this.challengeClaims).toString('base64')}"`;
      return { status: 401, body: { error: 'insufficient_claims' }, headers: { 'www-authenticate': challenge } };
    }
    if (path.endsWith('/fail')) return { status: 503, body: { error: 'down', echoed: `Bearer ${token}` } };
    return { status: 200, body: { aud: claims.aud, scp: claims.scp, roles: claims.roles, oid: claims.oid, uti: claims.uti, xms_cc: claims.xms_cc, body: body || undefined } };
  }
}

@Controller('calls')
@UseGuards(OboAuthGuard)
class CallsController {
  constructor(private readonly apis: DownstreamApiService) {}

  @Get('profile')
  profile(@DownstreamApi('profile') profile: DownstreamApiClient) {
    return profile.json('me');
  }

  @Get('profile-by-service')
  profileByService(@CurrentUser() user: EntraPrincipal) {
    return this.apis.forUser(user, 'profile').json('me');
  }

  @Get('profile-token')
  profileToken(@DownstreamToken('profile') token: string) {
    return { aud: decodeJwt(token).aud, scp: decodeJwt(token).scp };
  }

  @Get('reports')
  reports(@DownstreamApi('reports') reports: DownstreamApiClient) {
    return reports.json('me');
  }

  @Get('reports-by-service')
  reportsByService() {
    return this.apis.forApp('reports').json('me');
  }

  @Get('graph')
  graph(@DownstreamApi('graph') graph: DownstreamApiClient) {
    return graph.json('me');
  }

  @Get('cae')
  cae(@DownstreamApi('cae') cae: DownstreamApiClient) {
    return cae.json('data');
  }

  @Post('cae')
  caePost(@DownstreamApi('cae') cae: DownstreamApiClient, @Body() body: unknown) {
    return cae.json('data', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }

  @Get('fail')
  async fail(@DownstreamApi('profile') profile: DownstreamApiClient) {
    try {
      return await profile.json('fail');
    } catch (error) {
      if (!(error instanceof DownstreamApiError)) throw error;
      return { apiName: error.apiName, status: error.status, excerpt: error.bodyExcerpt, message: error.message };
    }
  }

  @Get('step-up')
  @RequireAuthContext('c1')
  stepUp(@CurrentUser() user: EntraPrincipal) {
    return { acrs: user.claims.acrs };
  }
}

/** Loopback downstream APIs over plain HTTP, the emulator's Graph over its pinned HTTPS. */
function routingFetch(entra: EntraEmulator): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) => (new URL(input instanceof Request ? input.url : input).protocol === 'https:' ? entra.fetch(input, init) : fetch(input, init))) as typeof fetch;
}

describe.each(ADAPTERS)('Calling downstream APIs on %s', (adapter) => {
  const entra = useEmulator({}, { reset: 'never' });
  const downstream = new DownstreamStandIn();
  let caeApi: EmulatorApp;
  let url: string;
  let close: () => Promise<void>;
  const policies: string[] = [];

  beforeAll(async () => {
    await downstream.start(entra.authorityHost);
    const { apps, tenants } = entra.defaults;
    // A resource that asks for `xms_cc`, so its tokens show which capabilities the exchange declared.
    caeApi = entra.directory.addApp({ clientId: randomUUID(), tenantId: tenants.primary.id, displayName: 'CAE-aware API', scopes: ['Data.Read'], optionalClaims: { accessToken: ['xms_cc'] } });
    entra.directory.grantApiPermission(apps.middleTierApi.app.clientId, caeApi.clientId, ['Data.Read']);
    // Named APIs come from configuration (ConfigService), so the controller is a plain class.
    const configuration = () => ({
      downstreamApis: {
        profile: { baseUrl: `${downstream.url}/profile/`, scopes: [apps.downstreamApi.scopes.read] },
        reports: { baseUrl: `${downstream.url}/reports`, scopes: [apps.downstreamApi.defaultScope], appToken: true },
        cae: { baseUrl: `${downstream.url}/cae`, scopes: [`${caeApi.identifierUris[0]}/Data.Read`] },
        graph: { baseUrl: `${entra.graphBaseUrl}/v1.0`, scopes: ['User.Read'] },
      },
    });
    @Module({
      imports: [
        OboModule.forRootAsync({
          imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [configuration] })],
          inject: [ConfigService],
          useFactory: (config: ConfigService): OboModuleOptions =>
            middleTierOptions(entra, { downstreamApis: config.getOrThrow('downstreamApis'), downstreamFetch: routingFetch(entra), clientCapabilities: ['cp1'], timeoutMs: 20_000 }),
        }),
      ],
      controllers: [CallsController],
    })
    class DownstreamAppModule {}
    const started = await startNestApp(DownstreamAppModule, adapter);
    url = started.url;
    close = () => started.app.close();
  });
  afterEach(() => {
    for (const id of policies.splice(0)) entra.policies.remove(id);
    downstream.distrusted.clear();
  });
  afterAll(async () => {
    await close?.();
    await downstream.stop();
  });

  const oboRequests = () => entra.tokenRequests({ grantType: JWT_BEARER_GRANT }).length;
  const freshUser = (name: string) => entra.directory.addUser({ tenantId: entra.defaults.tenants.primary.id, username: `${name}-${adapter}-${randomUUID().slice(0, 8)}`, displayName: name });

  it('@DownstreamApi calls a named API on behalf of the caller, scopes from ConfigService', async () => {
    const user = freshUser('ann');
    const answer = await get(url, '/calls/profile', await userToken(entra, user));
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ aud: entra.defaults.apps.downstreamApi.app.clientId, scp: 'Profile.Read', oid: user.id });
    expect(downstream.received.at(-1)?.path).toBe('/profile/me');
  });

  it('DownstreamApiService.forUser gives the same client outside the parameters, and shares the cached token', async () => {
    const token = await userToken(entra, freshUser('ben'));
    const first = await get(url, '/calls/profile', token);
    const before = oboRequests();
    const second = await get(url, '/calls/profile-by-service', token);
    expect(second.status).toBe(200);
    expect(second.json?.uti).toBe(first.json?.uti);
    expect(oboRequests()).toBe(before);
    // @DownstreamToken('profile') names the same configured API: same scopes, same cache entry.
    const named = await get(url, '/calls/profile-token', token);
    expect(named.json).toEqual({ aud: entra.defaults.apps.downstreamApi.app.clientId, scp: 'Profile.Read' });
    expect(oboRequests()).toBe(before);
  });

  it('an appToken API is called with client credentials ({resource}/.default), by decorator and by forApp', async () => {
    const token = await userToken(entra, freshUser('cy'));
    const byDecorator = await get(url, '/calls/reports', token);
    const byService = await get(url, '/calls/reports-by-service', token);
    for (const answer of [byDecorator, byService]) {
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ roles: ['Directory.Read.All'] });
      expect(answer.json?.scp).toBeUndefined();
    }
    expect(entra.tokenRequests({ grantType: CLIENT_CREDENTIALS_GRANT }).at(-1)?.scope).toContain(entra.defaults.apps.downstreamApi.defaultScope);
  });

  it("Graph /me through the emulator's Graph stand-in, by configuration only", async () => {
    const user = entra.defaults.users.member;
    const answer = await get(url, '/calls/graph', await userToken(entra, user));
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ id: user.id, displayName: user.displayName });
  });

  it('sends cp1 with every exchange, and answers a downstream claims challenge with one re-exchange and one retry', async () => {
    const token = await userToken(entra, freshUser('dee'));
    const warm = await get(url, '/calls/cae', token);
    expect(warm.status).toBe(200);
    expect(warm.json?.xms_cc).toEqual(['cp1']);
    downstream.distrusted.add(String(warm.json?.uti)); // the resource now distrusts that token (CAE: a revoked session)
    const before = oboRequests();

    const answer = await get(url, '/calls/cae', token);
    expect(answer.status).toBe(200);
    expect(answer.json?.uti).not.toBe(warm.json?.uti);
    expect(answer.json?.xms_cc).toEqual(['cp1']);
    expect(oboRequests()).toBe(before + 1);
    expect(downstream.received.slice(-2).map((request) => request.uti)).toEqual([warm.json?.uti, answer.json?.uti]);

    // The claims exchange replaced the cached token: the next call uses it, with no exchange.
    const after = await get(url, '/calls/cae', token);
    expect(after.json?.uti).toBe(answer.json?.uti);
    expect(oboRequests()).toBe(before + 1);
  });

  it('replays a JSON body on the retry', async () => {
    const token = await userToken(entra, freshUser('eve'));
    const warm = await get(url, '/calls/cae', token);
    downstream.distrusted.add(String(warm.json?.uti));
    const response = await fetch(`${url}/calls/cae`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"n":1}' });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { body: string }).body).toBe('{"n":1}');
    expect(downstream.received.slice(-2).map((request) => request.body)).toEqual(['{"n":1}', '{"n":1}']);
  });

  it('when Entra then requires MFA, our caller gets our 401 insufficient_claims with the claims, after one exchange', async () => {
    const user = freshUser('fay');
    const token = await userToken(entra, user);
    const warm = await get(url, '/calls/cae', token);
    expect(warm.status).toBe(200);
    policies.push(entra.policies.requireMfa({ resource: caeApi.clientId, users: [user.id] }).id);
    downstream.distrusted.add(String(warm.json?.uti));
    const before = oboRequests();

    const answer = await get(url, '/calls/cae', token);
    expect(answer.status).toBe(401);
    const challenge = parseWwwAuthenticate(answer.headers.get('www-authenticate'));
    expect(challenge).toMatchObject({ error: 'insufficient_claims', authorizationUri: expect.stringContaining(entra.authorityHost) });
    expect(JSON.parse(challenge!.claims!)).toMatchObject({ access_token: { capolids: { essential: true } } });
    expect(oboRequests()).toBe(before + 1); // never a loop
    expect(answer.text).not.toContain(token);
  });

  it('a failing downstream API gives a DownstreamApiError with its status and a token-free excerpt', async () => {
    const token = await userToken(entra, freshUser('gus'));
    const answer = await get(url, '/calls/fail', token);
    expect(answer.json).toMatchObject({ apiName: 'profile', status: 503, message: "The downstream API 'profile' answered 503." });
    expect(String(answer.json?.excerpt)).toContain('down');
    expect(String(answer.json?.excerpt)).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });

  it('@RequireAuthContext: a token without acrs c1 gets 401 insufficient_claims naming c1; one with it passes', async () => {
    const user = freshUser('hal');
    const plain = await get(url, '/calls/step-up', await userToken(entra, user));
    expect(plain.status).toBe(401);
    const challenge = parseWwwAuthenticate(plain.headers.get('www-authenticate'));
    expect(challenge?.error).toBe('insufficient_claims');
    expect(JSON.parse(challenge!.claims!)).toEqual({ access_token: { acrs: { essential: true, value: 'c1' } } });

    const other = await get(url, '/calls/step-up', await userToken(entra, user, { claims: { acrs: ['c2'] } }));
    expect(other.status).toBe(401);
    const stepped = await get(url, '/calls/step-up', await userToken(entra, user, { claims: { acrs: ['c1'] } }));
    expect(stepped.status).toBe(200);
    expect(stepped.json).toEqual({ acrs: ['c1'] });
  });
});

describe.each(ADAPTERS)('Named downstream APIs at bootstrap on %s', (adapter) => {
  const entra = useEmulator();

  it('an unknown name in @DownstreamToken or @DownstreamApi stops the start, listing the configured names', async () => {
    @Controller()
    @UseGuards(OboAuthGuard)
    class TypoController {
      @Get('a')
      a(@DownstreamToken('profil') token: string) {
        return token;
      }
      @Get('b')
      b(@DownstreamApi('grpah') api: DownstreamApiClient) {
        return api.name;
      }
    }
    const options = middleTierOptions(entra, { downstreamApis: { profile: { baseUrl: 'https://profile.example.com', scopes: [entra.defaults.apps.downstreamApi.scopes.read] } } });
    @Module({ imports: [OboModule.forRoot(options)], controllers: [TypoController] })
    class TypoModule {}
    await expect(startNestApp(TypoModule, adapter, false)).rejects.toThrow(
      /'profil' names no configured downstream API \(downstreamApis: profile\)[\s\S]*'grpah' names no configured downstream API/,
    );
  });
});

@Controller()
@UseGuards(OboAuthGuard)
class GraphController {
  @Get('graph/me')
  me(@DownstreamApi('graph') graph: DownstreamApiClient) {
    return graph.json('me');
  }
}

describe.each(ADAPTERS)('The documented Graph entry against the emulator on %s', (adapter) => {
  const entra = useEmulator();

  it("reaches the Graph stand-in's /me with configuration only: baseUrl and downstreamFetch", async () => {
    // README, "Calling downstream APIs": `graph: { baseUrl: 'https://graph.microsoft.com/v1.0', scopes: ['User.Read'] }`,
    // pointed at the emulator by changing the base URL and the downstream fetch, nothing else.
    const options = middleTierOptions(entra, { downstreamApis: { graph: { baseUrl: `${entra.graphBaseUrl}/v1.0`, scopes: ['User.Read'] } }, downstreamFetch: entra.fetch });
    @Module({ imports: [OboModule.forRoot(options)], controllers: [GraphController] })
    class GraphModule {}
    const { app, url } = await startNestApp(GraphModule, adapter);
    try {
      const user = entra.defaults.users.member;
      const answer = await get(url, '/graph/me', await userToken(entra, user));
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ id: user.id, displayName: user.displayName, userPrincipalName: user.username });
    } finally {
      await app.close();
    }
  });
});
