// Fastify asks that a property added to every request be declared first (`decorateRequest`), so that its request
// objects keep one shape: the module declares `user` for the guard, and leaves it alone when the app already did.
// Source: Fastify's "Decorators" reference, https://fastify.dev/docs/latest/Reference/Decorators/ (decorateRequest;
// decorating the same name twice throws FST_ERR_DEC_ALREADY_PRESENT).
import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { CurrentUser, OboAuthGuard, OboModule, type EntraPrincipal } from '../../src/index.js';
import { userToken, useEmulator } from '../support/emulator.js';
import { middleTierOptions } from './support/test-app.js';

@Controller()
class WhoController {
  @Get('who')
  @UseGuards(OboAuthGuard)
  who(@CurrentUser() user: EntraPrincipal) {
    return { oid: user.oid };
  }
}

interface FastifyDecorators {
  hasRequestDecorator(name: string): boolean;
  decorateRequest(name: string, value: unknown): void;
}

describe('request.user on Fastify', () => {
  const entra = useEmulator();
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(adapter: FastifyAdapter): Promise<string> {
    @Module({ imports: [OboModule.forRoot(middleTierOptions(entra))], controllers: [WhoController] })
    class AppModule {}
    app = await NestFactory.create(AppModule, adapter, { logger: ['error'] });
    await app.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  }

  async function who(url: string): Promise<unknown> {
    const response = await fetch(`${url}/who`, { headers: { authorization: `Bearer ${await userToken(entra, entra.defaults.users.member)}` } });
    return response.json();
  }

  it('is declared on Fastify requests by the module, and the guard fills it', async () => {
    const adapter = new FastifyAdapter();
    const instance = adapter.getInstance() as unknown as FastifyDecorators;
    expect(instance.hasRequestDecorator('user')).toBe(false);
    const url = await start(adapter);
    expect(instance.hasRequestDecorator('user')).toBe(true);
    expect(await who(url)).toEqual({ oid: entra.defaults.users.member.id });
  });

  it('is left as it is when the app declared it already (declaring twice would throw at start)', async () => {
    const adapter = new FastifyAdapter();
    (adapter.getInstance() as unknown as FastifyDecorators).decorateRequest('user', null);
    const url = await start(adapter);
    expect(await who(url)).toEqual({ oid: entra.defaults.users.member.id });
  });
});
