// README "Test your own API": this file is that example, word for word (test/smoke/readme-examples.spec.ts checks it).
import { Controller, Get, UseGuards, type INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { CurrentUser, DownstreamToken, OboAuthGuard, OboModule, RequireScopes, type EntraPrincipal } from 'nestjs-entra-obo';
import { JWT_BEARER_GRANT, startEntraEmulator, type EmulatorApp, type EntraEmulator } from 'nestjs-entra-obo/testing';

// Your API, as it is in your app.
@Controller('orders')
@UseGuards(OboAuthGuard)
class OrdersController {
  @Get()
  @RequireScopes('Orders.Read')
  list(@CurrentUser() user: EntraPrincipal) {
    return { owner: user.oid, orders: [] };
  }

  @Get('invoices')
  @RequireScopes('Orders.Read')
  async invoices(@DownstreamToken('api://billing/Invoices.Read') token: string) {
    // In the app: fetch(billingUrl, { headers: { authorization: `Bearer ${token}` } }).
    return { invoices: [], billingTokenReceived: token.length > 0 };
  }
}

describe.each(['express', 'fastify'] as const)('the orders API on %s, against the Entra emulator', (adapter) => {
  let entra: EntraEmulator;
  let ordersApi: EmulatorApp;
  let spa: EmulatorApp;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    entra = await startEntraEmulator(); // the default directory: tenant Contoso, users Alice (member) and Bob
    const tenantId = entra.defaults.tenants.primary.id;
    // Your own registrations: this API, the API it calls on the user's behalf, and the client that calls it.
    ordersApi = entra.directory.addApp({ tenantId, displayName: 'Orders API', identifierUris: ['api://orders'], scopes: ['Orders.Read', 'Orders.Write'] });
    const ordersSecret = entra.directory.addSecret(ordersApi.clientId);
    const billingApi = entra.directory.addApp({ tenantId, displayName: 'Billing API', identifierUris: ['api://billing'], scopes: ['Invoices.Read'] });
    spa = entra.directory.addApp({ tenantId, displayName: 'Orders SPA', spaRedirectUris: ['http://localhost:5173/'] });
    entra.directory.grantApiPermission(spa.clientId, ordersApi.clientId, ['Orders.Read', 'Orders.Write']);
    entra.directory.grantApiPermission(ordersApi.clientId, billingApi.clientId, ['Invoices.Read']);
    // Bob needs a second factor for billing: On-Behalf-Of answers him with a claims challenge until he has one.
    entra.policies.requireMfa({ resource: billingApi.clientId, users: [entra.defaults.users.mfaUser.id] });

    const moduleRef = await Test.createTestingModule({
      imports: [
        OboModule.forRoot({
          tenantId,
          clientId: ordersApi.clientId,
          credential: { clientSecret: ordersSecret },
          authorityHost: entra.authorityHost, // https://127.0.0.1:PORT instead of https://login.microsoftonline.com
          fetch: entra.fetch, // trusts the emulator's CA, for this module only
        }),
      ],
      controllers: [OrdersController],
    }).compile();
    app = moduleRef.createNestApplication(adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter());
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
    await entra?.close();
  });

  /** A user's token for the orders API, as the SPA holds it after the user signed in. */
  const tokenFor = (user: 'member' | 'mfaUser', scopes: string[], amr?: string[]) =>
    entra.issueAccessToken({ user: entra.defaults.users[user], client: spa, resource: ordersApi, scopes, ...(amr ? { amr } : {}) });
  const get = (path: string, token?: string) => fetch(`${url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('answers 401 without a token, and for a token issued to another API', async () => {
    const missing = await get('/orders');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');

    const otherApi = await entra.issueAccessToken({ user: entra.defaults.users.member, client: spa, resource: entra.defaults.apps.middleTierApi.app, scopes: ['access_as_user'] });
    const wrongAudience = await get('/orders', otherApi);
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers 403 when the token lacks the scope the route requires', async () => {
    const response = await get('/orders', await tokenFor('member', ['Orders.Write']));
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('serves the user, and calls billing on their behalf', async () => {
    const token = await tokenFor('member', ['Orders.Read']);
    const orders = await get('/orders', token);
    expect(orders.status).toBe(200);
    expect(await orders.json()).toEqual({ owner: entra.defaults.users.member.id, orders: [] });

    const invoices = await get('/orders/invoices', token);
    expect(invoices.status).toBe(200);
    expect(entra.tokenRequests({ grantType: JWT_BEARER_GRANT, clientId: ordersApi.clientId })).toHaveLength(1);
  });

  it('steps Bob up: 401 insufficient_claims until he signs in with a second factor', async () => {
    const challenged = await get('/orders/invoices', await tokenFor('mfaUser', ['Orders.Read']));
    expect(challenged.status).toBe(401);
    const challenge = challenged.headers.get('www-authenticate') ?? '';
    expect(challenge).toContain('error="insufficient_claims"');
    // A claims challenge, as Entra's resources send it (https://learn.microsoft.com/entra/identity-platform/claims-challenge):
    // the client signs Bob in again with these claims (MSAL: getAuthCodeUrl({ scopes, claims })); Entra asks for MFA.
    const claims = JSON.parse(Buffer.from(/claims="([^"]+)"/.exec(challenge)![1]!, 'base64').toString());
    expect(claims).toHaveProperty('access_token');

    // A sign-in with MFA (the browser's path: entra.signIn(authorizeUrl, { username }) with those claims).
    const afterMfa = await get('/orders/invoices', await tokenFor('mfaUser', ['Orders.Read'], ['pwd', 'mfa']));
    expect(afterMfa.status).toBe(200);
  });
});
