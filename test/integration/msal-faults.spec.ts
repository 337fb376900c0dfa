import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientAuthError, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { JWT_BEARER_GRANT, type EmulatorUser } from '../../src/testing/index.js';
import { userToken, useEmulator } from '../support/emulator.js';
import { aadstsOf, claimsOf, confidentialClient, rejectionOf, tokenRequestsSince } from './msal-test-kit.js';

describe('faults and transport: how msal-node reports them against the emulator', () => {
  const entra = useEmulator();

  /** A user who signed in with a second factor, so the seeded MFA policy never gets in the way of a fault. */
  const mfaToken = (user: EmulatorUser = entra.defaults.users.member) => userToken(entra, user, { amr: ['pwd', 'mfa'] });

  describe('HTTP 429', () => {
    it('a JSON 429 is a ServerError; msal then throttles that client instance locally, for every user, until Retry-After', async () => {
      const d = entra.defaults;
      const msal = confidentialClient(entra);
      const scopes = [d.apps.downstreamApi.scopes.read];
      entra.faults.inject({ type: 'throttle', retryAfterSec: 1, body: 'json' }, { grantType: JWT_BEARER_GRANT });
      const before = entra.tokenRequests().length;

      const throttled = await rejectionOf(msal.acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes }));

      expect(throttled).toBeInstanceOf(ServerError);
      expect(throttled).not.toBeInstanceOf(InteractionRequiredAuthError);
      expect(throttled.errorCode).toBe('temporarily_unavailable');
      expect(aadstsOf(throttled)).toBe('90055');
      // msal's errors carry no HTTP status: nothing on the error says 429.
      expect((throttled as ServerError).status).toBeUndefined();
      expect(tokenRequestsSince(entra, before)).toEqual([expect.objectContaining({ fault: 'throttle', status: 429 })]);

      // Another user, same scopes, same instance: refused by msal itself, the emulator never sees it.
      const local = await rejectionOf(msal.acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(d.users.mfaUser), scopes }));
      expect(local).toBeInstanceOf(ServerError);
      // The locally replayed error puts the AADSTS number, as a string, in errorCode and has no errorNo.
      expect(local.errorCode).toBe('90055');
      expect(aadstsOf(local)).toBeUndefined();
      expect(tokenRequestsSince(entra, before)).toHaveLength(1);

      // Other scopes, or another instance, are not throttled.
      await expect(msal.acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes: [d.apps.downstreamApi.scopes.write] })).resolves.toMatchObject({ fromCache: false });
      await expect(confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes })).resolves.toMatchObject({ fromCache: false });
      expect(tokenRequestsSince(entra, before)).toHaveLength(3);

      // Once Retry-After has passed (msal reads the real clock), the instance reaches Entra again.
      await sleep(1_100);
      await expect(msal.acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes })).resolves.toMatchObject({ fromCache: false });
      expect(tokenRequestsSince(entra, before)).toHaveLength(4);
    });

    it('a plain-text 429 ("Too Many Requests", the default throttle, as Entra sends it) is a token_parsing_error, and msal does not throttle after it', async () => {
      const d = entra.defaults;
      const msal = confidentialClient(entra);
      const scopes = [d.apps.downstreamApi.scopes.read];
      entra.faults.inject({ type: 'throttle', retryAfterSec: 30 });
      const before = entra.tokenRequests().length;

      const error = await rejectionOf(msal.acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes }));

      expect(error).toBeInstanceOf(ClientAuthError);
      expect(error.errorCode).toBe('token_parsing_error');
      expect(tokenRequestsSince(entra, before)).toEqual([expect.objectContaining({ fault: 'throttle', status: 429 })]);

      await expect(msal.acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes })).resolves.toMatchObject({ fromCache: false });
      expect(tokenRequestsSince(entra, before)).toHaveLength(2);
    });
  });

  it('a 503 is a ServerError temporarily_unavailable; without Retry-After msal throttles the instance locally', async () => {
    const d = entra.defaults;
    const msal = confidentialClient(entra);
    const scopes = [d.apps.downstreamApi.scopes.read];
    entra.faults.inject({ type: 'server-error', status: 503 });
    const before = entra.tokenRequests().length;

    const error = await rejectionOf(msal.acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes }));

    expect(error).toBeInstanceOf(ServerError);
    expect(error.errorCode).toBe('temporarily_unavailable');
    expect(aadstsOf(error)).toBe('50000');
    expect(tokenRequestsSince(entra, before)).toEqual([expect.objectContaining({ fault: 'server-error', status: 503 })]);

    const local = await rejectionOf(msal.acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes }));
    expect(local.errorCode).toBe('50000');
    expect(tokenRequestsSince(entra, before)).toHaveLength(1);
  });

  it('a connection reset is a network_error, and the next call goes through', async () => {
    const d = entra.defaults;
    const msal = confidentialClient(entra);
    const scopes = [d.apps.downstreamApi.scopes.read];
    entra.faults.inject({ type: 'reset' });
    const before = entra.tokenRequests().length;

    const error = await rejectionOf(msal.acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes }));

    expect(error).toBeInstanceOf(ClientAuthError);
    expect(error.errorCode).toBe('network_error');
    expect(tokenRequestsSince(entra, before)).toEqual([expect.objectContaining({ fault: 'reset', status: 0 })]);

    await expect(msal.acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes })).resolves.toMatchObject({ fromCache: false });
  });

  it('a 200 whose body is not JSON is a token_parsing_error', async () => {
    const d = entra.defaults;
    entra.faults.inject({ type: 'malformed-json' });

    const error = await rejectionOf(confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes: [d.apps.downstreamApi.scopes.read] }));

    expect(error).toBeInstanceOf(ClientAuthError);
    expect(error.errorCode).toBe('token_parsing_error');
  });

  it('a slow answer (300 ms) still succeeds: msal-node sets no timeout on token POSTs', async () => {
    const d = entra.defaults;
    const msal = confidentialClient(entra);
    // Discovery first, so that only the token POST is timed.
    await msal.acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes: [d.apps.downstreamApi.scopes.read] });
    entra.faults.inject({ type: 'delay', ms: 300 });
    const before = entra.tokenRequests().length;

    const started = performance.now();
    const result = await msal.acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes: [d.apps.downstreamApi.scopes.read] });

    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(claimsOf(result!.accessToken).aud).toBe(d.apps.downstreamApi.app.clientId);
    expect(tokenRequestsSince(entra, before)).toEqual([expect.objectContaining({ fault: 'delay', status: 200 })]);
  });

  it('faults hit only the grant type and client they were queued for', async () => {
    const d = entra.defaults;
    entra.faults.inject({ type: 'server-error', status: 500 }, { clientId: d.apps.daemon.app.clientId, grantType: 'client_credentials' });

    await expect(confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes: [d.apps.downstreamApi.scopes.read] })).resolves.not.toBeNull();
    await expect(confidentialClient(entra).acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope] })).resolves.not.toBeNull();
    expect(entra.faults.pending).toBe(1);

    const daemon = confidentialClient(entra, { clientId: d.apps.daemon.app.clientId, credential: { clientSecret: d.apps.daemon.clientSecret } });
    const error = await rejectionOf(daemon.acquireTokenByClientCredential({ scopes: [d.apps.downstreamApi.defaultScope] }));
    expect(error.errorCode).toBe('temporarily_unavailable');
    expect(entra.faults.pending).toBe(0);
  });

  it('a failing discovery document leaves msal unable to resolve the authority: endpoints_resolution_error, no token request', async () => {
    const d = entra.defaults;
    entra.faults.inject({ type: 'server-error', status: 503 }, { endpoint: 'discovery' });
    const before = entra.tokenRequests().length;

    const error = await rejectionOf(confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes: [d.apps.downstreamApi.scopes.read] }));

    expect(error).toBeInstanceOf(ClientAuthError);
    expect(error.errorCode).toBe('endpoints_resolution_error');
    expect(tokenRequestsSince(entra, before)).toHaveLength(0);
  });

  describe('correlation ids', () => {
    it("Entra's error echoes msal's client-request-id as correlation_id", async () => {
      const d = entra.defaults;
      entra.policies.blockAccess({ resource: d.apps.downstreamApi.app.clientId });
      const correlationId = randomUUID();
      const before = entra.tokenRequests().length;

      const error = await rejectionOf(
        confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes: [d.apps.downstreamApi.scopes.read], correlationId }),
      );

      expect(error.correlationId).toBe(correlationId);
      // The id inside the message comes from the response body (error_description and correlation_id), not from msal.
      expect(error.errorMessage).toContain(`Correlation ID: ${correlationId} - Trace ID:`);
      expect(error.errorMessage.match(new RegExp(correlationId, 'g'))).toHaveLength(2);
      expect(tokenRequestsSince(entra, before)).toEqual([expect.objectContaining({ correlationId, status: 400 })]);
    });

    it('an injected 429 echoes it too', async () => {
      const d = entra.defaults;
      entra.faults.inject({ type: 'throttle', retryAfterSec: 5, body: 'json' });
      const correlationId = randomUUID();

      const error = await rejectionOf(
        confidentialClient(entra).acquireTokenOnBehalfOf({ oboAssertion: await mfaToken(), scopes: [d.apps.downstreamApi.scopes.read], correlationId }),
      );

      expect(error.correlationId).toBe(correlationId);
      expect(error.errorMessage).toContain(`Correlation ID: ${correlationId} - Trace ID:`);
    });
  });
});
