export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerSettings {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe is let through. */
  openDurationMs: number;
  nowMs: () => number;
  /**
   * Called once when an outage begins (the circuit opens from closed) and once when it ends (the circuit closes), never
   * for a failed probe (half-open back to open): a backend that stays down for an hour logs two lines, not one per
   * probe.
   */
  onAvailabilityChange: (available: boolean) => void;
}

/**
 * Stops calling a failing backend: after `failureThreshold` consecutive failures it opens and every call is skipped
 * (costing nothing) until `openDurationMs` has passed; then one probe decides between closing and opening again.
 */
export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private openedAtMs = 0;
  private probeInFlight = false;

  constructor(private readonly settings: CircuitBreakerSettings) {}

  get currentState(): BreakerState {
    return this.state;
  }

  /** Whether a call may go through now; in half-open state only one probe at a time does. */
  allows(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (this.settings.nowMs() - this.openedAtMs < this.settings.openDurationMs) return false;
      this.transition('half-open');
    }
    if (this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  recordSuccess(): void {
    this.probeInFlight = false;
    this.consecutiveFailures = 0;
    if (this.state !== 'closed') this.transition('closed');
  }

  recordFailure(): void {
    this.probeInFlight = false;
    this.consecutiveFailures += 1;
    if (this.state === 'half-open' || (this.state === 'closed' && this.consecutiveFailures >= this.settings.failureThreshold)) {
      this.openedAtMs = this.settings.nowMs();
      this.transition('open');
    }
  }

  private transition(next: BreakerState): void {
    const previous = this.state;
    this.state = next;
    if (next === 'open' && previous === 'closed') this.settings.onAvailabilityChange(false);
    else if (next === 'closed') this.settings.onAvailabilityChange(true);
  }
}
