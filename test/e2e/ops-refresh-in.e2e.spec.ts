import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { decodeJwt } from 'jose';
import { AppToken, OboModule, TokenAcquisitionService, type AcquiredToken } from '../../src/index.js';
import { CLIENT_CREDENTIALS_GRANT } from './support/http-calls.js';
import { startNestApp } from './support/nest-app.js';
import { ADAPTERS, DOWNSTREAM_DEFAULT, middleTierOptions } from './support/test-app.js';
import { useEmulator } from '../support/emulator.js';

// Entra answers a long-lived token with `refresh_in` (the emulator: tokens living over two hours, see
// src/testing/emulator/token-lifetimes.ts); msal-common turns it into `AuthenticationResult.refreshOn`
// (`refreshOnSeconds = reqTimestamp + refresh_in`, @azure/msal-common dist/response/ResponseHandler.mjs), and
// refresh-ahead renews at that point instead of at half the token's life. Here `refresh_in` is a quarter of an
// 8-hour life (2 h), so renewal at `refresh_in` and renewal at half the life (4 h) are hours apart.
const LIFETIME_SEC = 8 * 3600;
const REFRESH_IN_SEC = LIFETIME_SEC / 4;

@Controller()
class AppTokenController {
  @Get('app-token')
  appToken(@AppToken({ scopes: DOWNSTREAM_DEFAULT, result: true }) token: AcquiredToken) {
    return { fromCache: token.fromCache, uti: decodeJwt(token.accessToken).uti };
  }
}

describe.each(ADAPTERS)("refresh-ahead at Entra's refresh_in on %s", (adapter) => {
  const entra = useEmulator({ tokenLifetimes: { accessTokenSec: LIFETIME_SEC, refreshInFraction: 0.25 } });
  let app: INestApplication;
  let url: string;

  beforeEach(async () => {
    @Module({ imports: [OboModule.forRoot(middleTierOptions(entra, { timeoutMs: 20_000 }))], controllers: [AppTokenController] })
    class RefreshInAppModule {}
    ({ app, url } = await startNestApp(RefreshInAppModule, adapter));
  });
  afterEach(async () => {
    await app?.close();
  });

  const call = async () => (await (await fetch(`${url}/app-token`)).json()) as { fromCache: boolean; uti: string };
  const appTokenRequests = () => entra.tokenRequests({ grantType: CLIENT_CREDENTIALS_GRANT });
  const renewalsSettled = () => app.get(TokenAcquisitionService).renewalsSettled();

  it('renews an app token in the background at refresh_in, hours before half its life; the emulator logs the renewal', async () => {
    const first = await call();
    expect(first.fromCache).toBe(false);
    expect(appTokenRequests()).toHaveLength(1);
    const issuedAtMs = appTokenRequests()[0]!.atMs;

    // Before refresh_in: a plain hit.
    entra.clock.advanceSec(REFRESH_IN_SEC - 600);
    expect(await call()).toEqual({ fromCache: true, uti: first.uti });
    await renewalsSettled();
    expect(appTokenRequests()).toHaveLength(1);

    // Past refresh_in, still far from half the life: the hit is served from the cache and starts the renewal.
    entra.clock.advanceSec(1200);
    expect(await call()).toEqual({ fromCache: true, uti: first.uti });
    await renewalsSettled();
    const requests = appTokenRequests();
    expect(requests).toHaveLength(2);
    expect(requests[1]).toMatchObject({ status: 200 });
    const renewedAfterSec = (requests[1]!.atMs - issuedAtMs) / 1000;
    expect(renewedAfterSec).toBeGreaterThanOrEqual(REFRESH_IN_SEC);
    expect(renewedAfterSec).toBeLessThan(LIFETIME_SEC / 2);

    // The renewed token answers from the cache, and is itself due only at its own refresh_in.
    const renewed = await call();
    expect(renewed.fromCache).toBe(true);
    expect(renewed.uti).not.toBe(first.uti);
    entra.clock.advanceSec(REFRESH_IN_SEC - 1200);
    expect(await call()).toEqual({ fromCache: true, uti: renewed.uti });
    await renewalsSettled();
    expect(appTokenRequests()).toHaveLength(2);
  });
});
