// OboErrors are Nest HttpExceptions (issue 16): without the module's filter, Nest's own handler renders their RFC 6750
// status and body, and a user's catch-all filter receives an HttpException it can render as it renders any other.
import { Catch, Controller, Get, HttpException, Module, UseGuards, type ArgumentsHost, type ExceptionFilter, type INestApplication } from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { CurrentUser, OboAuthGuard, OboModule, RequireRoles, RequireScopes, type EntraPrincipal, type OboModuleOptions } from '../../src/index.js';
import { useEmulator, userToken } from '../support/emulator.js';
import { startNestApp, ADAPTERS, type AdapterName } from './support/nest-app.js';
import { middleTierOptions } from './support/test-app.js';

@Controller()
class GuardedController {
  @Get('me')
  @UseGuards(OboAuthGuard)
  @RequireScopes('access_as_user')
  me(@CurrentUser() user: EntraPrincipal) {
    return { oid: user.oid };
  }

  @Get('admin')
  @UseGuards(OboAuthGuard)
  @RequireRoles('Tasks.Admin')
  admin() {
    return { ok: true };
  }
}

/** What a user's own catch-all filter saw: every exception, rendered from HttpException's own status and body. */
const seen: unknown[] = [];

@Catch()
class CatchEverythingFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(exception: unknown, host: ArgumentsHost): void {
    seen.push(exception);
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse<unknown>();
    if (exception instanceof HttpException) httpAdapter.reply(response, { rendered: 'by the app', ...(exception.getResponse() as object) }, exception.getStatus());
    else httpAdapter.reply(response, { rendered: 'by the app', statusCode: 500 }, 500);
  }
}

async function start(adapter: AdapterName, options: OboModuleOptions, ownFilter: boolean): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [OboModule.forRoot({ ...options, exceptionFilter: false })],
    controllers: [GuardedController],
    providers: ownFilter ? [{ provide: APP_FILTER, useClass: CatchEverythingFilter }] : [],
  })
  class AppModule {}
  return startNestApp(AppModule, adapter);
}

async function get(url: string, authorization?: string): Promise<{ status: number; challenge: string | null; body: unknown }> {
  const response = await fetch(url, authorization === undefined ? {} : { headers: { authorization } });
  return { status: response.status, challenge: response.headers.get('www-authenticate'), body: await response.json() };
}

describe.each(ADAPTERS)('OboErrors as HttpExceptions on %s', (adapter) => {
  const entra = useEmulator();

  describe('with exceptionFilter: false and no filter of the app', () => {
    let app: { app: INestApplication; url: string };
    beforeAll(async () => {
      app = await start(adapter, middleTierOptions(entra), false);
    });
    afterAll(() => app.app.close());

    it('answers a request without a token 401 with the RFC 6750 body, not 500', async () => {
      expect(await get(`${app.url}/me`)).toEqual({
        status: 401,
        challenge: null, // the challenge header is the module filter's; Nest's own handler sends the body only
        body: { statusCode: 401, error: 'unauthorized', message: 'The request has no bearer access token.' },
      });
    });

    it('answers an invalid token 401 invalid_token', async () => {
      const answer = await get(`${app.url}/me`, 'Bearer not.a.token');
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ statusCode: 401, error: 'invalid_token' });
    });

    it('answers a token without the role 403 insufficient_scope', async () => {
      const answer = await get(`${app.url}/admin`, `Bearer ${await userToken(entra)}`);
      expect(answer).toEqual({
        status: 403,
        challenge: null,
        body: { statusCode: 403, error: 'insufficient_scope', message: 'The access token does not grant a scope or role this operation requires.' },
      });
    });

    it('still admits a valid token', async () => {
      const answer = await get(`${app.url}/me`, `Bearer ${await userToken(entra)}`);
      expect(answer.status).toBe(200);
    });
  });

  describe("behind the app's own catch-all filter", () => {
    let app: { app: INestApplication; url: string };
    beforeAll(async () => {
      app = await start(adapter, middleTierOptions(entra), true);
    });
    afterAll(() => app.app.close());
    beforeEach(() => seen.splice(0));

    it('hands the filter an HttpException with the status and body of the README table', async () => {
      const answer = await get(`${app.url}/admin`, `Bearer ${await userToken(entra)}`);
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual({ rendered: 'by the app', statusCode: 403, error: 'insufficient_scope', message: expect.any(String) });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeInstanceOf(HttpException);
      expect((seen[0] as HttpException).getStatus()).toBe(403);
    });
  });
});
