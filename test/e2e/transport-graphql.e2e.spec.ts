// OboAuthGuard, @CurrentUser and @DownstreamToken in a real GraphQL server (@nestjs/graphql with Apollo, on Express and
// Fastify),
// over HTTP on loopback: the token is read from the HTTP request @nestjs/apollo puts in the GraphQL context as `req`
// (node_modules/@nestjs/apollo/dist/drivers/apollo-base.driver.js, wrapContextResolver), and a refusal is a GraphQL
// error whose extensions carry the code and the status.
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Module, UseGuards, type INestApplication } from '@nestjs/common';
import { GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import { decodeJwt } from 'jose';
import { CurrentUser, DownstreamToken, OboAuthGuard, OboModule, RequireRoles, RequireScopes, type EntraPrincipal, type OboModuleOptions } from '../../src/index.js';
import { useEmulator, userToken } from '../support/emulator.js';
import { ADAPTERS, startNestApp, type AdapterName } from './support/nest-app.js';
import { DOWNSTREAM_READ, middleTierOptions } from './support/test-app.js';

const typeDefs = `
  type Caller { oid: String!, tid: String!, scopes: [String!]! }
  type Query { me: Caller!, admin: Boolean!, downstreamAudience: String!, open: String! }
`;

@Resolver()
class CallerResolver {
  @Query('me')
  @UseGuards(OboAuthGuard)
  @RequireScopes('access_as_user')
  me(@CurrentUser() user: EntraPrincipal) {
    return { oid: user.oid, tid: user.tid, scopes: user.scopes };
  }

  @Query('admin')
  @UseGuards(OboAuthGuard)
  @RequireRoles('Tasks.Admin')
  admin() {
    return true;
  }

  @Query('downstreamAudience')
  @UseGuards(OboAuthGuard)
  downstreamAudience(@DownstreamToken(DOWNSTREAM_READ) token: string) {
    return String(decodeJwt(token).aud);
  }

  @Query('open')
  open() {
    return 'no guard here';
  }
}

async function startGraphqlApp(adapter: AdapterName, options: OboModuleOptions): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [OboModule.forRoot(options), GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, typeDefs })],
    providers: [CallerResolver],
  })
  class GraphqlAppModule {}
  return startNestApp(GraphqlAppModule, adapter);
}

interface GraphqlAnswer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: string[]; extensions: Record<string, unknown> }[];
}

async function query(url: string, text: string, authorization?: string): Promise<GraphqlAnswer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
    body: JSON.stringify({ query: text }),
  });
  return (await response.json()) as GraphqlAnswer;
}

describe.each(ADAPTERS)('GraphQL (Apollo on %s)', (adapter) => {
  const entra = useEmulator();

  describe('with the module filter', () => {
    let app: { app: INestApplication; url: string };
    beforeAll(async () => {
      app = await startGraphqlApp(adapter, middleTierOptions(entra));
    });
    afterAll(() => app.app.close());

    it('admits a valid token from the Authorization header and hands the resolver the caller', async () => {
      const answer = await query(app.url, '{ me { oid tid scopes } }', `Bearer ${await userToken(entra)}`);
      const { member } = entra.defaults.users;
      expect(answer).toEqual({ data: { me: { oid: member.id, tid: entra.defaults.tenants.primary.id, scopes: ['access_as_user'] } } });
    });

    it('exchanges the caller token On-Behalf-Of for @DownstreamToken in a resolver', async () => {
      const answer = await query(app.url, '{ downstreamAudience }', `Bearer ${await userToken(entra)}`);
      expect(answer.errors).toBeUndefined();
      expect(answer.data?.downstreamAudience).toBe(entra.defaults.apps.downstreamApi.app.clientId);
    });

    it('refuses a request without a token with UNAUTHENTICATED, status 401 and the RFC 6750 error in extensions', async () => {
      const answer = await query(app.url, '{ me { oid } }');
      expect(answer.data).toBeNull();
      expect(answer.errors).toHaveLength(1);
      expect(answer.errors?.[0]).toMatchObject({ message: 'The request has no bearer access token.', path: ['me'] });
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', status: 401, error: 'unauthorized' });
    });

    it('refuses an invalid token with invalid_token, never echoing it', async () => {
      const token = `${(await userToken(entra)).slice(0, -4)}AAAA`;
      const answer = await query(app.url, '{ me { oid } }', `Bearer ${token}`);
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', status: 401, error: 'invalid_token' });
      expect(JSON.stringify(answer)).not.toContain(token.split('.')[1]);
    });

    it('refuses a token without the role with FORBIDDEN, status 403', async () => {
      const answer = await query(app.url, '{ admin }', `Bearer ${await userToken(entra)}`);
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', status: 403, error: 'insufficient_scope' });
    });

    it('leaves unguarded fields alone', async () => {
      expect(await query(app.url, '{ open }')).toEqual({ data: { open: 'no guard here' } });
    });
  });

  describe('with exceptionFilter: false', () => {
    let app: { app: INestApplication; url: string };
    beforeAll(async () => {
      app = await startGraphqlApp(adapter, { ...middleTierOptions(entra), exceptionFilter: false } as OboModuleOptions);
    });
    afterAll(() => app.app.close());

    it("still gets UNAUTHENTICATED, not INTERNAL_SERVER_ERROR: @nestjs/apollo maps the HttpException's status", async () => {
      const answer = await query(app.url, '{ me { oid } }');
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', originalError: { statusCode: 401, error: 'unauthorized' } });
    });
  });
});
