import { Problems } from '../util/problems.js';
import { resolveOboOptions } from './resolve-options.js';
import { DEFAULT_MAX_LONG_RUNNING_SESSIONS, ENTRA_REFRESH_TOKEN_INACTIVITY_SEC, longRunningSessionsRule } from './long-running-sessions-option.js';

function rule(value: unknown) {
  const problems = new Problems('OboModule options');
  return { settings: longRunningSessionsRule(value, problems), problems: problems.list };
}

describe('longRunningSessions option', () => {
  it("defaults to Entra's 90 days of refresh-token inactivity and 10,000 sessions", () => {
    expect(rule(undefined)).toEqual({ settings: { idleTimeoutSec: 90 * 24 * 3600, maxSessions: 10_000 }, problems: [] });
    expect(ENTRA_REFRESH_TOKEN_INACTIVITY_SEC).toBe(7_776_000);
    expect(DEFAULT_MAX_LONG_RUNNING_SESSIONS).toBe(10_000);
  });

  it('takes either setting alone', () => {
    expect(rule({ idleTimeoutSec: 3600 }).settings).toEqual({ idleTimeoutSec: 3600, maxSessions: 10_000 });
    expect(rule({ maxSessions: 5 }).settings).toEqual({ idleTimeoutSec: 7_776_000, maxSessions: 5 });
  });

  it('names every problem: bounds, non-integers, unknown keys, a non-object', () => {
    expect(rule({ idleTimeoutSec: 59, maxSessions: 0, maxsessions: 3 }).problems).toEqual([
      "unknown option 'longRunningSessions.maxsessions'",
      'longRunningSessions.idleTimeoutSec must be an integer from 60 to 7776000, got 59',
      'longRunningSessions.maxSessions must be an integer from 1 to 10000000, got 0',
    ]);
    expect(rule({ idleTimeoutSec: 7_776_001 }).problems).toHaveLength(1);
    expect(rule({ maxSessions: 1.5 }).problems).toHaveLength(1);
    expect(rule([]).problems).toEqual(['longRunningSessions must be an object like { idleTimeoutSec, maxSessions }']);
  });
});

describe('resolveOboOptions with longRunningSessions', () => {
  const base = { tenantId: '08ca7782-ab9b-4297-96fe-a80d943ee9f4', clientId: '6e74172b-be56-4843-9ff4-e66a39bb12e3' };

  it('resolves the defaults, and reports a bad value with the other options’ problems', () => {
    expect(resolveOboOptions(base).longRunningSessions).toEqual({ idleTimeoutSec: 7_776_000, maxSessions: 10_000 });
    expect(resolveOboOptions({ ...base, longRunningSessions: { maxSessions: 50 } }).longRunningSessions).toEqual({ idleTimeoutSec: 7_776_000, maxSessions: 50 });
    expect(() => resolveOboOptions({ ...base, timeoutMs: 0, longRunningSessions: { idleTimeoutSec: 10 } })).toThrow(/timeoutMs must be[\s\S]*longRunningSessions.idleTimeoutSec must be an integer from 60/);
  });
});
