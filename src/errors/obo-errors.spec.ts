import { HttpException } from '@nestjs/common';
import { boundedRetryAfterSec, ClientConfigurationError, ConsentRequiredError, InsufficientScopeError, InvalidTokenError, MissingTokenError, IdentityProviderUnavailableError, MAX_RETRY_AFTER_SEC, OboConfigurationError, type OboError } from './obo-errors.js';

describe('Retry-After bounds', () => {
  it('are whole seconds from 1 to an hour, whatever was measured or sent', () => {
    expect(boundedRetryAfterSec(0)).toBe(1);
    expect(boundedRetryAfterSec(-5)).toBe(1);
    expect(boundedRetryAfterSec(1.2)).toBe(2);
    expect(boundedRetryAfterSec(3600)).toBe(3600);
    expect(boundedRetryAfterSec(100_000_000_000)).toBe(MAX_RETRY_AFTER_SEC);
    expect(boundedRetryAfterSec(Number.POSITIVE_INFINITY)).toBe(MAX_RETRY_AFTER_SEC);
    expect(boundedRetryAfterSec(Number.NaN)).toBe(MAX_RETRY_AFTER_SEC);
  });

  it('apply to every IdentityProviderUnavailableError, so no exponent form reaches a header', () => {
    expect(new IdentityProviderUnavailableError('down', 1e21).retryAfterSec).toBe(3600);
    expect(new IdentityProviderUnavailableError('down', 0.01).retryAfterSec).toBe(1);
    expect(new IdentityProviderUnavailableError('down', 5).throttled).toBe(false);
    expect(new IdentityProviderUnavailableError('busy', 5, {}, { throttled: true }).throttled).toBe(true);
  });
});

describe('OboConfigurationError', () => {
  it.each([
    ['OboModule options', 'Invalid OboModule options'],
    ['OboModule routes', 'OboModule found routes it cannot serve safely'],
    ['RedisTokenCache options', 'Invalid RedisTokenCache options'],
    ['BearerStrategy options', 'Invalid BearerStrategy options'],
    ['InMemoryTokenCache options', 'Invalid InMemoryTokenCache options'],
  ] as const)('names what was misconfigured (%s) in subject and in its first line', (subject, heading) => {
    const error = new OboConfigurationError(['first problem', 'second problem'], subject);
    expect(error.subject).toBe(subject);
    expect(error.code).toBe('configuration');
    expect(error.message).toBe(`${heading}:\n- first problem\n- second problem`);
  });

  it("is about the module's options unless told otherwise", () => {
    const error = new OboConfigurationError(['tenantId must be ...']);
    expect(error.subject).toBe('OboModule options');
    expect(error.message).toBe('Invalid OboModule options:\n- tenantId must be ...');
  });
});

describe('OboError as a Nest HttpException', () => {
  const cases: readonly (readonly [string, OboError, number, string])[] = [
    ['MissingTokenError', new MissingTokenError(), 401, 'unauthorized'],
    ['InvalidTokenError', new InvalidTokenError('expired', 'The access token has expired.'), 401, 'invalid_token'],
    ['InsufficientScopeError', new InsufficientScopeError(['Tasks.Read']), 403, 'insufficient_scope'],
    ['IdentityProviderUnavailableError', new IdentityProviderUnavailableError('socket hang up at 10.0.0.7', 5), 503, 'temporarily_unavailable'],
    ['OboConfigurationError', new OboConfigurationError(['clientSecret is empty']), 500, 'internal_error'],
  ];
  it.each(cases)('%s has its status and RFC 6750 body', (_name, error, status, code) => {
    expect(error).toBeInstanceOf(HttpException);
    expect(error.getStatus()).toBe(status);
    expect(error.getResponse()).toEqual({ statusCode: status, error: code, message: expect.any(String) });
    // @nestjs/apollo's HttpException mapping reads the fields, not the getters.
    expect((error as unknown as { status: number; response: unknown }).status).toBe(status);
    expect((error as unknown as { status: number; response: unknown }).response).toEqual(error.getResponse());
  });

  it('never puts an upstream or configuration detail in the body', () => {
    expect(new IdentityProviderUnavailableError('socket hang up at 10.0.0.7', 5).getResponse()).toEqual({ statusCode: 503, error: 'temporarily_unavailable', message: 'The identity provider is unavailable; try again later.' });
    expect(new OboConfigurationError(['clientSecret is empty']).getResponse()).toEqual({ statusCode: 500, error: 'internal_error', message: 'The service is misconfigured.' });
    expect(new ClientConfigurationError('AADSTS7000215: invalid secret', {}).getResponse()).toMatchObject({ message: 'The service is misconfigured.' });
  });

  it('lists the scopes that lack consent', () => {
    expect(new ConsentRequiredError(['api://x/Read'], {}).getResponse()).toEqual({ statusCode: 403, error: 'consent_required', message: expect.any(String), scopes: ['api://x/Read'] });
  });

  it('keeps its message and cause, and serialises neither the cause nor HttpException\'s fields', () => {
    const cause = new Error('raw upstream answer with a token eyJ...');
    const error = new InvalidTokenError('signature', 'The signature is invalid.', { cause });
    expect(error.message).toBe('The signature is invalid.');
    expect(error.name).toBe('InvalidTokenError');
    expect(error.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(error))).toEqual({ code: 'invalid_token', reason: 'signature' });
  });
});
