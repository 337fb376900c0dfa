import { AuthError, ClientAuthError, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { ClientConfigurationError, ConditionalAccessBlockedError, ConsentRequiredError, IdentityProviderUnavailableError, InsufficientClaimsError, InvalidGrantError, type OboError } from '../errors/obo-errors.js';
import { describeForLog, mapMsalFailure, parseRetryAfter, type MappedFailure } from './msal-error-mapping.js';

const SCOPES = ['api://downstream/Profile.Read'] as const;
const CORRELATION_ID = 'c0ffee00-0000-4000-8000-000000000001';
// Entra's trace and correlation ids are GUIDs; anything else in those fields is dropped.
const TRACE_ID = '7ace0000-0000-4000-8000-000000000002';
// A recognisable token inside msal's message, as Entra sometimes quotes the assertion it refused.
const USER_TOKEN = 'eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ1c2VyIn0.USER-TOKEN-SIGNATURE';
const MFA_CLAIMS = '{"access_token":{"capolids":{"essential":true,"values":["8a3b2f4c-policy"]}}}';

function serverError(errorCode: string, errorNo?: string, subError = '', status?: number): ServerError {
  return new ServerError(errorCode, CORRELATION_ID, `AADSTS${errorNo ?? '?'}: refused ${USER_TOKEN}`, subError, errorNo, status);
}

function interactionRequired(errorCode: string, errorNo: string, options: { subError?: string; claims?: string } = {}): InteractionRequiredAuthError {
  return new InteractionRequiredAuthError(errorCode, CORRELATION_ID, `AADSTS${errorNo}: ${USER_TOKEN}`, options.subError ?? '', '2030-01-01 00:00:00Z', TRACE_ID, options.claims ?? '', errorNo);
}

/**
 * msal-node types `errorNo` as a string but passes Entra's JSON number through unchanged (measured in
 * test/integration/msal-on-behalf-of.spec.ts), so the mapping must work with both.
 */
function withNumericErrorNo<T extends AuthError>(error: T): T {
  const errorNo = Number((error as T & { errorNo?: string }).errorNo);
  Object.defineProperty(error, 'errorNo', { value: errorNo, enumerable: true });
  return error;
}

function mapped(error: unknown, observed: { status?: number; retryAfterSec?: number } = {}): MappedFailure {
  return mapMsalFailure(error, observed, SCOPES);
}

function expectNoTokenIn(error: OboError): void {
  const entra = (error as OboError & { entra?: object }).entra;
  expect(error.message).not.toContain(USER_TOKEN);
  expect(JSON.stringify(entra ?? {})).not.toContain(USER_TOKEN);
  expect(JSON.stringify(error)).not.toContain(USER_TOKEN);
}

describe('mapMsalFailure', () => {
  describe('throttling and outages', () => {
    it('maps a 429 to unavailable with the observed Retry-After, and does not retry it', () => {
      const { error, retryable } = mapped(serverError('temporarily_unavailable', '50196'), { status: 429, retryAfterSec: 17 });
      expect(error).toBeInstanceOf(IdentityProviderUnavailableError);
      expect((error as IdentityProviderUnavailableError).retryAfterSec).toBe(17);
      expect(retryable).toBe(false);
    });

    it('waits 60 s after a 429 that names no Retry-After, even when msal saw a plain-text body', () => {
      const { error, retryable } = mapped(new ClientAuthError('token_parsing_error', '', 'Failed to parse response'), { status: 429 });
      expect(error).toBeInstanceOf(IdentityProviderUnavailableError);
      expect((error as IdentityProviderUnavailableError).retryAfterSec).toBe(60);
      expect(retryable).toBe(false);
    });

    it.each([500, 502, 503, 504])('retries a %i', (status) => {
      const { error, retryable } = mapped(serverError('server_error', '50000', '', status), { status });
      expect(error).toBeInstanceOf(IdentityProviderUnavailableError);
      expect(retryable).toBe(true);
      expect((error as IdentityProviderUnavailableError).retryAfterSec).toBeGreaterThan(0);
    });

    it('passes on the Retry-After of a 503', () => {
      const { error } = mapped(serverError('temporarily_unavailable', '50000', '', 503), { status: 503, retryAfterSec: 30 });
      expect((error as IdentityProviderUnavailableError).retryAfterSec).toBe(30);
    });

    it('retries a timeout or a network failure', () => {
      const { error, retryable } = mapped(new ClientAuthError('network_error', '', 'Request timeout'));
      expect(error).toBeInstanceOf(IdentityProviderUnavailableError);
      expect(error.message).toContain('could not be reached or timed out');
      expect(retryable).toBe(true);
    });

    it('retries a body that is not JSON (a proxy error page)', () => {
      const { error, retryable } = mapped(new ClientAuthError('token_parsing_error', '', 'Failed to parse response'), { status: 200 });
      expect(error).toBeInstanceOf(IdentityProviderUnavailableError);
      expect(retryable).toBe(true);
    });

    it('treats something that is not an msal error as an outage, keeping it as the cause', () => {
      const thrown = new TypeError('fetch failed');
      const { error, retryable } = mapped(thrown);
      expect(error).toBeInstanceOf(IdentityProviderUnavailableError);
      expect(error.cause).toBe(thrown);
      expect(retryable).toBe(true);
      expect(mapped('a string').error).toBeInstanceOf(IdentityProviderUnavailableError);
    });
  });

  describe('consent', () => {
    it('maps AADSTS65001 with suberror consent_required to ConsentRequiredError naming the scopes', () => {
      const { error, retryable } = mapped(interactionRequired('invalid_grant', '65001', { subError: 'consent_required' }));
      expect(error).toBeInstanceOf(ConsentRequiredError);
      expect((error as ConsentRequiredError).scopes).toEqual(SCOPES);
      expect(error.message).toContain(SCOPES[0]);
      expect(retryable).toBe(false);
    });

    it('maps AADSTS65001 without a suberror', () => {
      expect(mapped(serverError('invalid_grant', '65001')).error).toBeInstanceOf(ConsentRequiredError);
      expect(mapped(withNumericErrorNo(serverError('invalid_grant', '65001'))).error).toBeInstanceOf(ConsentRequiredError);
    });

    it('maps the error code consent_required', () => {
      expect(mapped(interactionRequired('consent_required', '65004')).error).toBeInstanceOf(ConsentRequiredError);
    });
  });

  describe('Conditional Access', () => {
    it('maps AADSTS53003 to ConditionalAccessBlockedError', () => {
      const { error, retryable } = mapped(serverError('invalid_grant', '53003'));
      expect(error).toBeInstanceOf(ConditionalAccessBlockedError);
      expect(retryable).toBe(false);
    });

    it('maps AADSTS53003 as msal-node really delivers it (errorNo a number)', () => {
      expect(mapped(withNumericErrorNo(serverError('invalid_grant', '53003'))).error).toBeInstanceOf(ConditionalAccessBlockedError);
    });
  });

  describe('claims challenges', () => {
    it.each([
      ['invalid_grant', '50076', 'basic_action'],
      ['interaction_required', '50079', ''],
    ])('maps %s AADSTS%s with claims to InsufficientClaimsError carrying the claims', (errorCode, errorNo, subError) => {
      const { error, retryable } = mapped(interactionRequired(errorCode, errorNo, { subError, claims: MFA_CLAIMS }));
      expect(error).toBeInstanceOf(InsufficientClaimsError);
      expect((error as InsufficientClaimsError).claims).toBe(MFA_CLAIMS);
      expect(error.message).toContain(`AADSTS${errorNo}`);
      expect(error.message).not.toContain('8a3b2f4c-policy');
      expect(retryable).toBe(false);
    });

    it('maps any error that carries claims, whatever its code', () => {
      expect(mapped(interactionRequired('invalid_grant', '50158', { claims: MFA_CLAIMS })).error).toBeInstanceOf(InsufficientClaimsError);
    });

    it("names the caller's tenant, where the challenge's authorization_uri sends the user", () => {
      const tenantId = '4a3c2b1d-0e9f-4a8b-9c7d-6e5f4a3b2c1d';
      const { error } = mapMsalFailure(interactionRequired('invalid_grant', '50076', { claims: MFA_CLAIMS }), {}, SCOPES, tenantId);
      expect((error as InsufficientClaimsError).tenantId).toBe(tenantId);
    });
  });

  describe("this API's own configuration", () => {
    it.each([
      ['invalid_client', '7000215'],
      ['unauthorized_client', '700016'],
      ['invalid_scope', '70011'],
    ])('maps %s (AADSTS%s) to ClientConfigurationError, not retried', (errorCode, errorNo) => {
      const { error, retryable } = mapped(serverError(errorCode, errorNo, '', 401));
      expect(error).toBeInstanceOf(ClientConfigurationError);
      expect(error.message).toContain(errorCode);
      expect(error.message).toContain(`AADSTS${errorNo}`);
      expect(retryable).toBe(false);
    });
  });

  describe("the user's assertion", () => {
    it.each([
      ['invalid_grant', '50013'],
      ['invalid_grant', '500133'],
      ['invalid_grant', '500131'],
      ['invalid_request', '240002'],
    ])('maps %s AADSTS%s to InvalidGrantError', (errorCode, errorNo) => {
      const { error, retryable } = mapped(serverError(errorCode, errorNo, '', 400), { status: 400 });
      expect(error).toBeInstanceOf(InvalidGrantError);
      expect(error.message).toContain(`AADSTS${errorNo}`);
      expect(retryable).toBe(false);
    });
  });

  it('maps an unknown msal error to unavailable without retrying it', () => {
    const { error, retryable } = mapped(new AuthError('something_new', 'odd'));
    expect(error).toBeInstanceOf(IdentityProviderUnavailableError);
    expect(retryable).toBe(false);
  });

  describe('what the errors carry', () => {
    const failures: [string, AuthError][] = [
      ['claims', interactionRequired('invalid_grant', '50076', { subError: 'basic_action', claims: MFA_CLAIMS })],
      ['consent', interactionRequired('invalid_grant', '65001', { subError: 'consent_required' })],
      ['block', serverError('invalid_grant', '53003')],
      ['grant', serverError('invalid_grant', '50013')],
      ['client', serverError('invalid_client', '7000215')],
      ['outage', serverError('server_error', '50000', '', 503)],
    ];

    it.each(failures)('keeps the Entra details of %s non-enumerable, with the msal error as cause', (_label, failure) => {
      const { error } = mapped(failure, { status: failure instanceof ServerError ? failure.status : undefined });
      const { entra } = error as OboError & { entra: { error?: string; errorCodes?: number[]; correlationId?: string } };
      expect(Object.keys(error)).not.toContain('entra');
      expect(Object.getOwnPropertyDescriptor(error, 'entra')?.enumerable).toBe(false);
      expect(JSON.stringify(error)).not.toContain(CORRELATION_ID);
      expect(JSON.stringify(error)).not.toContain('entra');
      expect(entra.error).toBe(failure.errorCode);
      expect(entra.errorCodes).toEqual([Number((failure as AuthError & { errorNo?: string }).errorNo)]);
      expect(entra.correlationId).toBe(CORRELATION_ID);
      expect(error.cause).toBe(failure);
      expectNoTokenIn(error);
    });

    it('records the suberror and the trace id', () => {
      const { error } = mapped(interactionRequired('invalid_grant', '50076', { subError: 'basic_action', claims: MFA_CLAIMS }));
      expect((error as InsufficientClaimsError).entra).toEqual({ error: 'invalid_grant', errorCodes: [50076], suberror: 'basic_action', correlationId: CORRELATION_ID, traceId: TRACE_ID });
    });

    it('omits what msal does not know', () => {
      const { error } = mapped(new ClientAuthError('network_error', '', 'Request timeout'));
      expect((error as IdentityProviderUnavailableError).entra).toEqual({ error: 'network_error' });
    });
  });

  describe("Entra's fields are used only when well-formed", () => {
    it('replaces an error name that is not [a-z_], and drops a non-numeric AADSTS code, ids that are not GUIDs', () => {
      const forged = new ServerError('invalid_grant\r\nX-Injected: 1', 'not-a-guid\r\n', 'refused', 'basic\naction', '50076\r\nSet-Cookie: a=b', 400);
      const { error } = mapped(forged);
      const entra = (error as IdentityProviderUnavailableError).entra;
      expect(entra).toEqual({ error: 'unrecognised_error', suberror: 'unrecognised_error' });
      expect(error.message).not.toMatch(/[\r\n]/);
      expect(error.message).not.toContain('Injected');
      expect(error.message).not.toContain('Set-Cookie');
    });

    it('reads an AADSTS number only when it is one, as a string or a number', () => {
      expect((mapped(serverError('invalid_grant', '70000')).error as InvalidGrantError).entra.errorCodes).toEqual([70000]);
      expect((mapped(withNumericErrorNo(serverError('invalid_grant', '70000'))).error as InvalidGrantError).entra.errorCodes).toEqual([70000]);
      expect((mapped(serverError('invalid_grant', '7e4')).error as InvalidGrantError).entra.errorCodes).toBeUndefined();
      expect(mapped(serverError('invalid_grant', 'AADSTS70000\n')).error.message).not.toMatch(/\n/);
    });

    it('maps a forged error name by status, never by the text it carries', () => {
      const { error } = mapped(serverError('consent_required\n', undefined, '', 400));
      expect(error).not.toBeInstanceOf(ConsentRequiredError);
    });
  });
});

describe('describeForLog', () => {
  it("keeps Entra's description on one line of printable ASCII, bounded", () => {
    expect(describeForLog('AADSTS700016: Application not found.\r\nTrace ID: x')).toBe('AADSTS700016: Application not found. Trace ID: x');
    expect(describeForLog('x'.repeat(1000))).toHaveLength(303);
    expect(describeForLog('\u0000\n')).toBeUndefined();
    expect(describeForLog(undefined)).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  const NOW_MS = Date.UTC(2030, 0, 1, 12, 0, 0);

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', NOW_MS)).toBe(120);
    expect(parseRetryAfter(' 5 ', NOW_MS)).toBe(5);
    expect(parseRetryAfter('0', NOW_MS)).toBe(0);
  });

  it('caps what it reads at an hour, however large the value or far the date', () => {
    expect(parseRetryAfter('3600', NOW_MS)).toBe(3600);
    expect(parseRetryAfter('3601', NOW_MS)).toBe(3600);
    expect(parseRetryAfter('100000000000', NOW_MS)).toBe(3600);
    expect(parseRetryAfter('9'.repeat(400), NOW_MS)).toBe(3600);
    expect(parseRetryAfter(new Date(NOW_MS + 86_400_000).toUTCString(), NOW_MS)).toBe(3600);
  });

  it('reads an HTTP date as the seconds until then, rounded up, never negative', () => {
    expect(parseRetryAfter(new Date(NOW_MS + 90_000).toUTCString(), NOW_MS)).toBe(90);
    expect(parseRetryAfter(new Date(NOW_MS + 90_000).toUTCString(), NOW_MS + 500)).toBe(90);
    expect(parseRetryAfter(new Date(NOW_MS - 90_000).toUTCString(), NOW_MS)).toBe(0);
  });

  it.each([null, '', '   ', 'soon', '5s', 'later today'])('ignores %p', (value) => {
    expect(parseRetryAfter(value, NOW_MS)).toBeUndefined();
  });

  // V8's Date.parse reads these as dates in 2001, which would turn garbage into "retry now".
  it.each(['1.5', '-5', 'abc 12'])('ignores %p, which is neither delta-seconds nor an HTTP date', (value) => {
    expect(parseRetryAfter(value, NOW_MS)).toBeUndefined();
  });
});
