/**
 * The emulator's notion of "now". Every token it issues and every expiry it checks reads this clock, so a test can
 * move time forward (expire a token, pass a `Retry-After`) without waiting.
 */
export class EmulatorClock {
  private offsetMs = 0;
  private frozenAtMs: number | undefined;

  nowMs(): number {
    return (this.frozenAtMs ?? Date.now()) + this.offsetMs;
  }

  nowSec(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** Moves the clock forward (or back, with a negative value). */
  advanceMs(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError(`clock.advanceMs expects a finite number of milliseconds, got ${ms}`);
    this.offsetMs += ms;
  }

  advanceSec(seconds: number): void {
    this.advanceMs(seconds * 1000);
  }

  /** Stops the clock at its current reading (or at `at`) until `resume()`. */
  freeze(at?: Date): void {
    const atMs = (at ?? new Date(this.nowMs())).getTime();
    if (!Number.isFinite(atMs)) throw new RangeError('clock.freeze expects a valid Date');
    this.frozenAtMs = atMs;
    this.offsetMs = 0;
  }

  /** Runs again from the frozen reading (including any advance made while frozen). */
  resume(): void {
    if (this.frozenAtMs === undefined) return;
    this.offsetMs = this.frozenAtMs + this.offsetMs - Date.now();
    this.frozenAtMs = undefined;
  }

  /** Back to the machine's real time. */
  reset(): void {
    this.offsetMs = 0;
    this.frozenAtMs = undefined;
  }
}
