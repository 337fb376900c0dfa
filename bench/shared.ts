import { readFileSync } from 'node:fs';

/**
 * The HTTP scenarios, each a server process of its own. `bare-copy` is a second bare server, measured against the first
 * like every other scenario: its ratio shows what the method itself reads as a difference. `bare+outbound-https` is
 * bare in a process that has made one HTTPS request (what Node's own code costs once it has). The two no-op controls
 * show Nest's own floor.
 */
export const SERVER_SCENARIOS = ['bare', 'bare-copy', 'bare+outbound-https', 'noop-guard', 'noop-guard+param', 'guard', 'guard+downstream-hit', 'passport-azure-ad', 'passport-jwt'] as const;
export type ServerScenario = (typeof SERVER_SCENARIOS)[number];
export const ADAPTERS = ['express', 'fastify'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

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
