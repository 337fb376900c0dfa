import { isIP, isIPv4 } from 'node:net';
import type { EntraEmulator } from './entra-emulator.js';
import { Problems } from '../../util/problems.js';
import { seedShapeProblems, type EmulatorSeed } from './seed-file.js';
import { DEFAULT_TOKEN_LIFETIMES, lifetimeProblems, type EmulatorTokenLifetimes } from './token-lifetimes.js';

export interface EntraEmulatorOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /**
   * Interface to listen on: `127.0.0.1` (default), any `127.x.y.z`, `::1` or `localhost`. Another address (`0.0.0.0`
   * in a container) only with `allowNonLoopbackHost: true`: the emulator hands out tokens to anyone who asks.
   */
  host?: string;
  /** Lets `host` be an address other processes or machines can reach. For tests in containers only. */
  allowNonLoopbackHost?: boolean;
  /**
   * Names other processes reach the emulator by (a docker-compose service name): put into the TLS certificate, and
   * the first one is the authority host in issuers and discovery documents (`https://{hostnames[0]}:{port}`).
   */
  hostnames?: string[];
  /**
   * A folder that keeps the CA, the TLS certificate and the signing keys across runs, so that a browser or
   * `NODE_EXTRA_CA_CERTS` trusts the emulator once and tokens survive a restart. One live emulator per folder.
   * Without it, the CA and TLS certificate are kept in a cache under the OS temp dir and the signing keys are new.
   */
  dataDir?: string;
  /**
   * What the directory starts with: `'default'` (two tenants, four users, four apps, an MFA policy: see
   * `DefaultDirectory`), `'empty'`, a function that builds it, or a seed object (`EmulatorSeed`, the parsed form of
   * a `--seed` file).
   */
  seed?: EmulatorSeedOption;
  /** A seed file (JSON, as `--print-seed` writes it) to start from; instead of `seed`. */
  seedFile?: string;
  /**
   * Lifetimes of issued tokens, codes and refresh tokens. Access tokens live a random 3600–5400 s by default, as in
   * Entra; give `accessTokenSec: 3600` for a fixed lifetime when a test does expiry arithmetic. msal-node treats
   * tokens as expired 300 s early. Tokens over two hours are answered with `refresh_in` (`refreshInFraction` of the
   * life, half by default); refresh tokens live 90 days, a single-page app's 24 hours.
   */
  tokenLifetimes?: Partial<EmulatorTokenLifetimes>;
  /** Seeds the random lifetimes, so that a run can be repeated draw for draw. */
  randomSeed?: number;
  /** Whether `login_hint` signs the user in without showing the account picker (default true). */
  allowLoginHintSignIn?: boolean;
}

export type EmulatorSeedOption = 'default' | 'empty' | ((emulator: EntraEmulator) => void | Promise<void>) | EmulatorSeed;

/** The options with their defaults filled in, once every one has been checked. */
export interface ResolvedEmulatorOptions {
  host: string;
  port: number;
  hostnames: string[];
  dataDir: string | undefined;
  lifetimes: EmulatorTokenLifetimes;
  randomSeed: number | undefined;
  seed: EmulatorSeedOption;
  allowLoginHintSignIn: boolean;
}

/** Loopback: what only this machine reaches (RFC 1122 §3.2.1.3 gives IPv4 all of 127.0.0.0/8). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}

/** A DNS name as a certificate's subjectAltName carries it: letters, digits and hyphens in dot-separated labels. */
const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Checks every option and fills in the defaults. All problems are reported at once, one per line, so a caller fixes
 * them in one go instead of one start at a time.
 */
export function resolveEmulatorOptions(options: EntraEmulatorOptions = {}): ResolvedEmulatorOptions {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const problems = new Problems('startEntraEmulator options');
  if (typeof host !== 'string' || (isIP(host) === 0 && !DNS_NAME.test(host))) problems.add(`host must be an IP address or a host name, got '${String(host)}'`);
  else if (!isLoopbackHost(host) && options.allowNonLoopbackHost !== true) {
    problems.add(`host must be a loopback address (127.0.0.1, ::1 or localhost), got '${host}'; set allowNonLoopbackHost to listen beyond this machine`);
  }
  const hostnames = options.hostnames ?? [];
  if (!Array.isArray(hostnames)) problems.add('hostnames must be an array of host names');
  else for (const name of hostnames) if (typeof name !== 'string' || !DNS_NAME.test(name)) problems.add(`hostnames: '${String(name)}' is not a host name (letters, digits, hyphens and dots)`);
  if (options.dataDir !== undefined && (typeof options.dataDir !== 'string' || options.dataDir.trim() === '')) problems.add('dataDir must be a folder path');
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.add(`port must be an integer from 0 to 65535, got ${port}`);
  const lifetimes = { ...DEFAULT_TOKEN_LIFETIMES, ...options.tokenLifetimes };
  problems.addAll(lifetimeProblems(lifetimes));
  if (options.randomSeed !== undefined && !Number.isInteger(options.randomSeed)) problems.add(`randomSeed must be an integer, got ${options.randomSeed}`);
  const seed = options.seed ?? 'default';
  if (options.seed !== undefined && options.seedFile !== undefined) problems.add('give seed or seedFile, not both');
  if (typeof seed === 'object' && seed !== null) problems.addAll(seedShapeProblems(seed));
  else if (seed !== 'default' && seed !== 'empty' && typeof seed !== 'function') problems.add(`seed must be 'default', 'empty', a function or a seed object`);
  problems.throwIfAny('type');
  return { host, port, hostnames: Array.isArray(hostnames) ? hostnames : [], dataDir: options.dataDir, lifetimes, randomSeed: options.randomSeed, seed, allowLoginHintSignIn: options.allowLoginHintSignIn ?? true };
}
