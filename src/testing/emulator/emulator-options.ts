import type { EntraEmulator } from './entra-emulator.js';
import { DEFAULT_TOKEN_LIFETIMES, lifetimeProblems, type EmulatorTokenLifetimes } from './tokens.js';

export interface EntraEmulatorOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on: `127.0.0.1` (default), `::1` or `localhost`. Only loopback makes sense. */
  host?: string;
  /**
   * What the directory starts with: `'default'` (two tenants, four users, four apps, an MFA policy: see
   * `DefaultDirectory`), `'empty'`, or a function that builds it.
   */
  seed?: 'default' | 'empty' | ((emulator: EntraEmulator) => void | Promise<void>);
  /**
   * Lifetimes of issued tokens, codes and refresh tokens. Access tokens live a random 3600–5400 s by default, as in
   * Entra; give `accessTokenSec: 3600` for a fixed lifetime when a test does expiry arithmetic. msal-node treats
   * tokens as expired 300 s early.
   */
  tokenLifetimes?: Partial<EmulatorTokenLifetimes>;
  /** Seeds the random lifetimes, so that a run can be repeated draw for draw. */
  randomSeed?: number;
  /** Whether `login_hint` signs the user in without showing the account picker (default true). */
  allowLoginHintSignIn?: boolean;
}

/** The options with their defaults filled in, once every one has been checked. */
export interface ResolvedEmulatorOptions {
  host: string;
  port: number;
  lifetimes: EmulatorTokenLifetimes;
  randomSeed: number | undefined;
  seed: 'default' | 'empty' | ((emulator: EntraEmulator) => void | Promise<void>);
  allowLoginHintSignIn: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Checks every option and fills in the defaults. All problems are reported at once, one per line, so a caller fixes
 * them in one go instead of one start at a time.
 */
export function resolveEmulatorOptions(options: EntraEmulatorOptions = {}): ResolvedEmulatorOptions {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const problems: string[] = [];
  if (!LOOPBACK.has(host)) problems.push(`host must be a loopback address (127.0.0.1, ::1 or localhost), got '${host}'`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`port must be an integer from 0 to 65535, got ${port}`);
  const lifetimes = { ...DEFAULT_TOKEN_LIFETIMES, ...options.tokenLifetimes };
  problems.push(...lifetimeProblems(lifetimes));
  if (options.randomSeed !== undefined && !Number.isInteger(options.randomSeed)) problems.push(`randomSeed must be an integer, got ${options.randomSeed}`);
  const seed = options.seed ?? 'default';
  if (seed !== 'default' && seed !== 'empty' && typeof seed !== 'function') problems.push(`seed must be 'default', 'empty' or a function`);
  if (problems.length > 0) throw new TypeError(`startEntraEmulator: invalid options:\n- ${problems.join('\n- ')}`);
  return { host, port, lifetimes, randomSeed: options.randomSeed, seed, allowLoginHintSignIn: options.allowLoginHintSignIn ?? true };
}
