import { RetryBackoff } from './retry-backoff.js';

describe('RetryBackoff', () => {
  let nowMs: number;
  let random: number;
  let backoff: RetryBackoff;

  beforeEach(() => {
    nowMs = 1_000_000;
    random = 0.999;
    backoff = new RetryBackoff({ initialMs: 1_000, maxMs: 30_000, nowMs: () => nowMs, random: () => random });
  });

  it('does not wait before any failure', () => {
    expect(backoff.isWaiting).toBe(false);
    expect(backoff.hasFailed).toBe(false);
  });

  it('waits about a second after the first failure, then allows a retry', () => {
    backoff.failed();
    expect(backoff.isWaiting).toBe(true);
    expect(backoff.retryAfterSec).toBe(1);
    nowMs += 999;
    expect(backoff.isWaiting).toBe(true);
    nowMs += 1;
    expect(backoff.isWaiting).toBe(false);
    expect(backoff.hasFailed).toBe(true);
  });

  it('doubles the wait per consecutive failure, bounded by maxMs', () => {
    const waits: number[] = [];
    for (let failure = 0; failure < 8; failure += 1) {
      backoff.failed();
      waits.push(backoff.retryAfterSec);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 30, 30, 30]);
  });

  it('draws each wait from the upper half of its ceiling (jitter)', () => {
    random = 0;
    backoff.failed();
    backoff.failed();
    backoff.failed();
    // Third failure: ceiling 4 s, so the wait is 2 s to 4 s; random 0 gives the shortest.
    nowMs += 1_999;
    expect(backoff.isWaiting).toBe(true);
    nowMs += 1;
    expect(backoff.isWaiting).toBe(false);
  });

  it('starts over after a success', () => {
    for (let failure = 0; failure < 5; failure += 1) backoff.failed();
    backoff.succeeded();
    expect(backoff.isWaiting).toBe(false);
    expect(backoff.hasFailed).toBe(false);
    backoff.failed();
    expect(backoff.retryAfterSec).toBe(1);
  });
});
