import type { LongRunningSessionSettings } from '../cache/long-running-session-store.js';
import type { Problems } from '../util/problems.js';

/**
 * Entra's refresh tokens for web APIs and web apps live 90 days and are renewed with every use; a single-page app's
 * live 24 hours (https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens, "Token lifetime"). An
 * On-Behalf-Of refresh token is of the first kind, so by default a session lasts as long as Entra lets it: until it
 * has gone 90 days unrefreshed. Longer would only keep refresh tokens Entra no longer honours.
 */
export const ENTRA_REFRESH_TOKEN_INACTIVITY_SEC = 90 * 24 * 3600;
export const DEFAULT_MAX_LONG_RUNNING_SESSIONS = 10_000;

/** The option names of `longRunningSessions`, checked against its type by the compiler. */
const OPTION_NAMES: Record<keyof LongRunningSessionSettings, true> = { idleTimeoutSec: true, maxSessions: true };

/** `longRunningSessions`: the idle limit (60 s to Entra's 90 days) and the bound on their number. */
export function longRunningSessionsRule(value: unknown, problems: Problems): LongRunningSessionSettings {
  const defaults = { idleTimeoutSec: ENTRA_REFRESH_TOKEN_INACTIVITY_SEC, maxSessions: DEFAULT_MAX_LONG_RUNNING_SESSIONS };
  if (value === undefined) return defaults;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.add('longRunningSessions must be an object like { idleTimeoutSec, maxSessions }');
    return defaults;
  }
  for (const name of Object.keys(value)) if (!Object.prototype.hasOwnProperty.call(OPTION_NAMES, name)) problems.add(`unknown option 'longRunningSessions.${name}'`);
  const given = value as Partial<LongRunningSessionSettings>;
  return {
    idleTimeoutSec: problems.integerIn(given.idleTimeoutSec, 'longRunningSessions.idleTimeoutSec', { min: 60, max: ENTRA_REFRESH_TOKEN_INACTIVITY_SEC }, defaults.idleTimeoutSec),
    maxSessions: problems.integerIn(given.maxSessions, 'longRunningSessions.maxSessions', { min: 1, max: 10_000_000 }, defaults.maxSessions),
  };
}
