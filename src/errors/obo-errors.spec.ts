import { boundedRetryAfterSec, IdentityProviderUnavailableError, MAX_RETRY_AFTER_SEC, OboConfigurationError } from './obo-errors.js';

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
