/** How long to wait after consecutive failures: short, bounded, jittered. */
export interface RetryBackoffSettings {
  /** The first wait (before jitter). */
  initialMs: number;
  /** No wait is longer than this. */
  maxMs: number;
  /** Source of time: the module's configured clock, so tests move it instead of sleeping. */
  nowMs: () => number;
  /** A number in [0, 1); `Math.random` unless a test pins it. */
  random?: () => number;
}

/**
 * Remembers a run of failures of one remote call (a discovery document, a key set) and when the next attempt is
 * allowed: the wait doubles per failure up to `maxMs`, and each wait is drawn from its upper half ("equal jitter"),
 * so instances that failed together do not retry together. A success clears it.
 */
export class RetryBackoff {
  private failures = 0;
  private retryAtMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly settings: RetryBackoffSettings) {}

  /** True while the last attempt failed and its wait has not passed: do not call the remote side now. */
  get isWaiting(): boolean {
    return this.settings.nowMs() < this.retryAtMs;
  }

  /** Whether the last attempt failed (whatever the wait). */
  get hasFailed(): boolean {
    return this.failures > 0;
  }

  /** Whole seconds until the next attempt is allowed, at least 1: the `Retry-After` to give a client. */
  get retryAfterSec(): number {
    return Math.max(1, Math.ceil((this.retryAtMs - this.settings.nowMs()) / 1000));
  }

  failed(): void {
    this.failures += 1;
    const ceilingMs = Math.min(this.settings.maxMs, this.settings.initialMs * 2 ** Math.min(this.failures - 1, 30));
    const random = this.settings.random ?? Math.random;
    this.retryAtMs = this.settings.nowMs() + ceilingMs / 2 + (random() * ceilingMs) / 2;
  }

  succeeded(): void {
    this.failures = 0;
    this.retryAtMs = Number.NEGATIVE_INFINITY;
  }
}
