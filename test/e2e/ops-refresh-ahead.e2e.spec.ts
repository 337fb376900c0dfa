import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { decodeJwt } from 'jose';
import { AppToken, OboModule, TokenAcquisitionService, type AcquiredToken } from '../../src/index.js';
import { CLIENT_CREDENTIALS_GRANT } from './support/http-calls.js';
import { startNestApp } from './support/nest-app.js';
import { ADAPTERS, DOWNSTREAM_DEFAULT, middleTierOptions } from './support/test-app.js';
import { useEmulator } from '../support/emulator.js';

// Entra's `refresh_in` reaches us as MSAL's `AuthenticationResult.refreshOn`: msal-common turns it into the cached
// token's `refreshOn` (AzureAD/microsoft-authentication-library-for-js, lib/msal-common/src/response/ResponseHandler.ts,
// `refreshOnSeconds = reqTimestamp + refresh_in`). The emulator sends it only for
// tokens that live longer than two hours, as msal-node's rule for sources that send none has it (ops-refresh-in.e2e.spec.ts
// covers those); these live exactly two hours, so they renew at half their life.
const LIFETIME_SEC = 7200;

@Controller()
class AppTokenController {
  @Get('app-token')
  appToken(@AppToken({ scopes: DOWNSTREAM_DEFAULT, result: true }) token: AcquiredToken) {
    return { fromCache: token.fromCache, jti: decodeJwt(token.accessToken).uti ?? decodeJwt(token.accessToken).jti };
  }
}

describe.each(ADAPTERS)('refresh-ahead of app tokens on %s', (adapter) => {
  const entra = useEmulator({ tokenLifetimes: { accessTokenSec: LIFETIME_SEC } });
  let app: INestApplication;
  let url: string;

  beforeEach(async () => {
    @Module({ imports: [OboModule.forRoot(middleTierOptions(entra, { timeoutMs: 20_000 }))], controllers: [AppTokenController] })
    class RefreshAheadAppModule {}
    ({ app, url } = await startNestApp(RefreshAheadAppModule, adapter));
  });
  afterEach(async () => {
    await app?.close();
  });

  const call = async () => (await (await fetch(`${url}/app-token`)).json()) as { fromCache: boolean; jti: string };
  const appTokenRequests = () => entra.tokenRequests({ grantType: CLIENT_CREDENTIALS_GRANT });

  it('a steady caller sees no miss across the expiry; the emulator logs the background renewal', async () => {
    const first = await call();
    expect(first.fromCache).toBe(false);
    expect(appTokenRequests()).toHaveLength(1);

    entra.clock.advanceSec(LIFETIME_SEC * 0.4);
    expect(await call()).toEqual({ fromCache: true, jti: first.jti });
    await app.get(TokenAcquisitionService).renewalsSettled();
    expect(appTokenRequests()).toHaveLength(1);

    entra.clock.advanceSec(LIFETIME_SEC * 0.2); // 60% of its life: due
    expect(await call()).toEqual({ fromCache: true, jti: first.jti });
    await app.get(TokenAcquisitionService).renewalsSettled();
    expect(appTokenRequests()).toHaveLength(2);

    // Past the first token's expiry: the renewed token answers, still from the cache.
    entra.clock.advanceSec(LIFETIME_SEC * 0.5);
    const after = await call();
    expect(after.fromCache).toBe(true);
    expect(after.jti).not.toBe(first.jti);
    expect(appTokenRequests()).toHaveLength(2);
  });

  it('a failed renewal keeps the cached token served', async () => {
    const first = await call();
    entra.clock.advanceSec(LIFETIME_SEC * 0.6);
    entra.faults.inject({ type: 'server-error', status: 503 }, { grantType: CLIENT_CREDENTIALS_GRANT, times: 10 });
    expect(await call()).toEqual({ fromCache: true, jti: first.jti });
    await app.get(TokenAcquisitionService).renewalsSettled();
    expect(await call()).toEqual({ fromCache: true, jti: first.jti });
    expect(appTokenRequests().length).toBeGreaterThan(1);
  });
});
