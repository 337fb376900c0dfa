import { CircuitBreaker } from './circuit-breaker.js';

function breaker() {
  let now = 0;
  const changes: string[] = [];
  const subject = new CircuitBreaker({
    failureThreshold: 3,
    openDurationMs: 1000,
    nowMs: () => now,
    onAvailabilityChange: (available: boolean) => changes.push(available ? 'available' : 'unavailable'),
  });
  return { subject, changes, advance: (ms: number) => (now += ms) };
}

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures, and a success resets the count', () => {
    const { subject, changes } = breaker();
    subject.recordFailure();
    subject.recordFailure();
    subject.recordSuccess();
    subject.recordFailure();
    subject.recordFailure();
    expect(subject.currentState).toBe('closed');
    subject.recordFailure();
    expect(subject.currentState).toBe('open');
    expect(subject.allows()).toBe(false);
    expect(changes).toEqual(['unavailable']);
  });

  it('lets one probe through after the open duration; its success closes the circuit', () => {
    const { subject, changes, advance } = breaker();
    for (let index = 0; index < 3; index += 1) subject.recordFailure();
    advance(999);
    expect(subject.allows()).toBe(false);
    advance(1);
    expect(subject.allows()).toBe(true);
    expect(subject.allows()).toBe(false);
    subject.recordSuccess();
    expect(subject.currentState).toBe('closed');
    expect(subject.allows()).toBe(true);
    expect(changes).toEqual(['unavailable', 'available']);
  });

  it('opens again at once when the probe fails, and reports the outage once however many probes fail', () => {
    const { subject, changes, advance } = breaker();
    for (let index = 0; index < 10; index += 1) subject.recordFailure();
    for (let probe = 0; probe < 6; probe += 1) {
      advance(1000);
      expect(subject.allows()).toBe(true);
      expect(subject.currentState).toBe('half-open');
      subject.recordFailure();
      expect(subject.currentState).toBe('open');
      expect(subject.allows()).toBe(false);
    }
    expect(changes).toEqual(['unavailable']);
    advance(1000);
    expect(subject.allows()).toBe(true);
    subject.recordSuccess();
    expect(changes).toEqual(['unavailable', 'available']);
  });
});
