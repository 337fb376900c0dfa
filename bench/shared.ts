import { readFileSync } from 'node:fs';

/**
 * The HTTP scenarios, each a server process of its own. `bare-copy` is a second bare server, measured against the first
 * like every other scenario: its ratio shows what the method itself reads as a difference. The two no-op controls
 * show Nest's own floor. Three controls separate what a process's history costs from what a request's work costs:
 * `bare+https-history` is bare in a process that made one outbound HTTPS request per priming request (what an API
 * that calls others does all day; Node's shared socket and stream code runs slower for every request from then on),
 * `bare+guard-history` is an unguarded route in the guard's own kind of server after what that server does before
 * its load (fetch Entra's metadata and keys, validate every priming token in full), and `guard+exchange-history` is
 * the On-Behalf-Of server primed through its `@DownstreamToken` route (one exchange per user, as
 * `guard+downstream-hit` is) and then loaded on a route with the guard alone.
 */
export const SERVER_SCENARIOS = ['bare', 'bare-copy', 'bare+https-history', 'bare+guard-history', 'noop-guard', 'noop-guard+param', 'guard', 'guard+exchange-history', 'guard+downstream-hit', 'passport-azure-ad', 'passport-jwt'] as const;
export type ServerScenario = (typeof SERVER_SCENARIOS)[number];
export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

/** The path a scenario is primed through when it is not the loaded `/bench` (the history controls above). */
export const PRIME_PATHS: Partial<Record<ServerScenario, string>> = { 'bare+https-history': '/prime', 'bare+guard-history': '/prime', 'guard+exchange-history': '/prime' };

/** What the orchestrator tells each child process about the emulator (through the environment). */
export interface BenchEnvironment {
  authorityHost: string;
  caFile: string;
  tenantId: string;
  middleTierClientId: string;
  middleTierSecret: string;
  downstreamScope: string;
}

export function benchEnvironment(): BenchEnvironment {
  const text = process.env.BENCH_ENVIRONMENT;
  if (!text) throw new Error('BENCH_ENVIRONMENT is not set: run the benchmark through `npm run bench`');
  return JSON.parse(text) as BenchEnvironment;
}

export function caCertificate(environment: BenchEnvironment): string {
  return readFileSync(environment.caFile, 'utf8');
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Sends one JSON line to the parent process. */
export function report(result: unknown): void {
  process.stdout.write(`${JSON.stringify({ result })}\n`);
}
