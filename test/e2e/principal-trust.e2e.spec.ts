import { Controller, Get, Injectable, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessTokenVerifier, DownstreamToken, OboAuthGuard, OboModule, TokenAcquisitionService, type OboModuleOptions } from '../../src/index.js';
import { resolveOboOptions } from '../../src/config/resolve-options.js';
import { AuthorityMetadataClient } from '../../src/discovery/authority-metadata.js';
import { useEmulator } from '../support/emulator.js';
import { get, JWT_BEARER_GRANT, userToken } from './support/http-calls.js';
import { ADAPTERS, DOWNSTREAM_READ, middleTierOptions } from './support/test-app.js';
import { startNestApp } from './support/nest-app.js';

/** A verifier under other settings than the module's: it accepts guests. */
function lenientVerifier(options: OboModuleOptions): AccessTokenVerifier {
  const settings = resolveOboOptions({ ...options, allowGuests: true });
  return new AccessTokenVerifier(settings, new AuthorityMetadataClient(settings));
}

describe.each(ADAPTERS)("principals another verifier built, on %s", (adapter) => {
  const entra = useEmulator();
  let app: INestApplication;
  let url: string;
  let lenient: AccessTokenVerifier;

  beforeAll(async () => {
    const strict = middleTierOptions(entra, { allowGuests: false });
    lenient = lenientVerifier(strict);

    /** A guard that attaches a principal built under other settings, as another strategy or module would. */
    @Injectable()
    class LenientGuard extends OboAuthGuard {
      constructor(reflector: Reflector) {
        super(reflector, lenient);
      }
    }
    @Controller()
    class DownstreamController {
      @Get('downstream')
      @UseGuards(LenientGuard)
      downstream(@DownstreamToken(DOWNSTREAM_READ) token: string) {
        return { length: token.length };
      }
    }
    @Module({ imports: [OboModule.forRoot(strict)], controllers: [DownstreamController], providers: [LenientGuard] })
    class TrustModule {}
    ({ app, url } = await startNestApp(TrustModule, adapter, false));
  });
  afterAll(async () => {
    await app?.close();
  });

  it("@DownstreamToken validates the caller again under the module's settings, and refuses what they refuse", async () => {
    const guest = await userToken(entra, entra.defaults.users.guest);
    const before = entra.tokenRequests({ grantType: JWT_BEARER_GRANT }).length;
    const answer = await get(url, '/downstream', guest);
    expect(answer.status).toBe(401);
    expect(answer.json?.message).toMatch(/[Gg]uest/);
    expect(entra.tokenRequests({ grantType: JWT_BEARER_GRANT }).length).toBe(before);
    expect((await get(url, '/downstream', await userToken(entra, entra.defaults.users.member))).status).toBe(200);
  });

  it('acquireTokenOnBehalfOf does the same with a principal it is handed', async () => {
    const principal = await lenient.verify(await userToken(entra, entra.defaults.users.guest));
    expect(principal.isGuest).toBe(true);
    await expect(app.get(TokenAcquisitionService).acquireTokenOnBehalfOf(principal, DOWNSTREAM_READ)).rejects.toMatchObject({ code: 'invalid_token', reason: 'guest' });
  });
});
