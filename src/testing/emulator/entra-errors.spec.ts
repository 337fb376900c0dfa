import { EntraProtocolError, entraErrorBody, entraErrors, entraTimestamp, timeSpan } from './entra-errors.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NOW_MS = Date.UTC(2026, 10, 28, 19, 35, 46, 789);
const ERROR_URI_BASE = 'https://login.emulator.test:8443';

describe('entraTimestamp', () => {
  it('is `YYYY-MM-DD HH:MM:SSZ` in UTC, without milliseconds', () => {
    expect(entraTimestamp(NOW_MS)).toBe('2026-11-28 19:35:46Z');
    expect(entraTimestamp(Date.UTC(2027, 0, 2, 3, 4, 5, 0))).toBe('2027-01-02 03:04:05Z');
  });
});

// Entra writes durations as .NET TimeSpans: "was inactive for 90.00:00:00" (AADSTS700082), "a fixed, limited
// lifetime of 1.00:00:00" (AADSTS700084); a refresh token of an External ID tenant reports "12:00:00".
describe('timeSpan', () => {
  it('is d.hh:mm:ss from a day on, hh:mm:ss below', () => {
    expect(timeSpan(90 * 86_400_000)).toBe('90.00:00:00');
    expect(timeSpan(86_400_000)).toBe('1.00:00:00');
    expect(timeSpan(12 * 3_600_000)).toBe('12:00:00');
    expect(timeSpan(86_400_000 + 3_723_999)).toBe('1.01:02:03');
  });
});

describe('EntraProtocolError', () => {
  it('puts the AADSTS number first in its message', () => {
    const failure = new EntraProtocolError('invalid_grant', 50013, 'Assertion failed signature validation.');
    expect(failure).toBeInstanceOf(Error);
    expect(failure.name).toBe('EntraProtocolError');
    expect(failure.message).toBe('AADSTS50013: Assertion failed signature validation.');
  });

  it('is HTTP 401 for invalid_client and 400 for everything else', () => {
    expect(entraErrors.wrongClientSecret('client').status).toBe(401);
    expect(entraErrors.badClientAssertion('bad').status).toBe(401);
    expect(entraErrors.invalidScope('x').status).toBe(400);
    expect(entraErrors.unknownClient('client', 'tenant').status).toBe(400);
    expect(entraErrors.mfaRequired('api', '{}').status).toBe(400);
  });

  it('lets an explicit status win, even over invalid_client', () => {
    expect(entraErrors.temporarilyUnavailable(503).status).toBe(503);
    expect(new EntraProtocolError('invalid_client', 7000215, 'x', { status: 400 }).status).toBe(400);
    expect(new EntraProtocolError('invalid_grant', 50013, 'x', { status: 429 }).status).toBe(429);
  });
});

describe('entraErrorBody', () => {
  it('has the shape Entra sends, echoing the correlation id', () => {
    const failure = entraErrors.invalidScope('api://x/admin');
    const body = entraErrorBody(failure, { correlationId: 'c0ffee00-0000-4000-8000-000000000001', nowMs: NOW_MS, errorUriBase: ERROR_URI_BASE });

    expect(Object.keys(body).sort()).toEqual(['correlation_id', 'error', 'error_codes', 'error_description', 'error_uri', 'timestamp', 'trace_id']);
    expect(body).toMatchObject({
      error: 'invalid_scope',
      error_codes: [70011],
      timestamp: '2026-11-28 19:35:46Z',
      correlation_id: 'c0ffee00-0000-4000-8000-000000000001',
      error_uri: `${ERROR_URI_BASE}/error?code=70011`,
    });
    expect(body.trace_id).toMatch(GUID);
    expect(body.error_description).toBe(
      `${failure.message} Trace ID: ${String(body.trace_id)} Correlation ID: c0ffee00-0000-4000-8000-000000000001 Timestamp: 2026-11-28 19:35:46Z`,
    );
    expect(body.error_description).toMatch(/^AADSTS70011: /);
  });

  it('makes up a fresh correlation id when the client sent none, and a fresh trace id every time', () => {
    const failure = entraErrors.codeRedeemed();
    const first = entraErrorBody(failure, { correlationId: undefined, nowMs: NOW_MS, errorUriBase: ERROR_URI_BASE });
    const second = entraErrorBody(failure, { correlationId: undefined, nowMs: NOW_MS, errorUriBase: ERROR_URI_BASE });
    expect(first.correlation_id).toMatch(GUID);
    expect(second.correlation_id).toMatch(GUID);
    expect(first.correlation_id).not.toBe(second.correlation_id);
    expect(first.trace_id).not.toBe(second.trace_id);
    expect(first.error_description).toContain(`Correlation ID: ${String(first.correlation_id)} `);
  });

  it('carries suberror and claims when the failure has them', () => {
    const claims = '{"access_token":{"capolids":{"essential":true,"values":["p1"]}}}';
    const body = entraErrorBody(entraErrors.mfaRequired('api://x', claims), { correlationId: 'id', nowMs: NOW_MS, errorUriBase: ERROR_URI_BASE });
    expect(body).toMatchObject({ error: 'invalid_grant', error_codes: [50076], suberror: 'basic_action', claims });
  });

  it('carries a suberror without claims, and claims without a suberror', () => {
    const consent = entraErrorBody(entraErrors.consentRequired('client', 'api'), { correlationId: 'id', nowMs: NOW_MS, errorUriBase: ERROR_URI_BASE });
    expect(consent.suberror).toBe('consent_required');
    expect('claims' in consent).toBe(false);

    const registration = entraErrorBody(entraErrors.mfaRegistrationRequired('{"x":1}'), { correlationId: 'id', nowMs: NOW_MS, errorUriBase: ERROR_URI_BASE });
    expect(registration).toMatchObject({ error: 'interaction_required', error_codes: [50079], claims: '{"x":1}' });
    expect('suberror' in registration).toBe(false);
  });

  it('leaves suberror and claims out entirely when absent', () => {
    const body = entraErrorBody(entraErrors.blockedByConditionalAccess(), { correlationId: 'id', nowMs: NOW_MS, errorUriBase: ERROR_URI_BASE });
    expect('suberror' in body).toBe(false);
    expect('claims' in body).toBe(false);
  });
});
