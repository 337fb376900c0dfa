// The HTTP half of the bench: one server process per scenario (optionally pinned to its own core), load from this
// process (http-load.ts), and the server's own CPU time around each load.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { httpLoad } from './http-load.js';
import { PRIME_PATHS, type AdapterName, type BenchEnvironment, type ServerScenario } from './shared.js';

export interface BenchServer {
  /** What the load requests. */
  url: string;
  /** What priming requests: `url`, or the route that gives the process its history (PRIME_PATHS). */
  primeUrl: string;
  child: ChildProcess;
}

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  /** The server process's user + system CPU time per request served, in µs. */
  cpuUsPerRequest: number;
}

/**
 * Where processes run: with `taskset` and two cores or more, the servers on the last core and the load generator
 * (this process) on the first, so they do not take turns on one core. Undefined when pinning is not possible.
 */
export function pinning(): { serverCore: number } | undefined {
  const cores = cpus().length;
  if (cores < 2) return undefined;
  try {
    execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });
    return { serverCore: cores - 1 };
  } catch {
    return undefined;
  }
}

export function childEnv(environment: BenchEnvironment, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_ENVIRONMENT: JSON.stringify(environment), ...extra };
  // Only the passport-azure-ad server may trust the emulator's CA process-wide; it gets it explicitly below.
  delete env.NODE_EXTRA_CA_CERTS;
  return { ...env, ...extra };
}

export async function startServer(here: string, scenario: ServerScenario, adapter: AdapterName, environment: BenchEnvironment, pinned: { serverCore: number } | undefined, extraEnv: Record<string, string> = {}): Promise<BenchServer> {
  const extra: Record<string, string> = { ...extraEnv, ...(scenario === 'passport-azure-ad' ? { NODE_EXTRA_CA_CERTS: environment.caFile } : {}) };
  const nodeArgs = [join(here, 'servers', 'http-server.js'), scenario, adapter];
  const [command, args] = pinned ? ['taskset', ['-c', String(pinned.serverCore), process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(command, args, { env: childEnv(environment, extra), stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${scenario} on ${adapter} exited with ${code}`)));
    child.stdout!.on('data', (data: Buffer) => {
      const ready = /ready (\d+)/.exec(data.toString());
      if (ready) resolve(Number(ready[1]));
    });
  });
  const origin = `http://127.0.0.1:${port}`;
  return { url: `${origin}/bench`, primeUrl: `${origin}${PRIME_PATHS[scenario] ?? '/bench'}`, child };
}

/**
 * Sends every token once (16 at a time) to the server's `primeUrl` before any timed load, so each scenario starts with
 * its caches filled and its history made: the guard has validated each token and the On-Behalf-Of scenarios have
 * exchanged each one. Fails on any non-2xx answer.
 */
export async function prime(server: BenchServer, tokens: string[]): Promise<void> {
  for (let start = 0; start < tokens.length; start += 16) {
    await Promise.all(
      tokens.slice(start, start + 16).map(async (token) => {
        const response = await fetch(server.primeUrl, { headers: { authorization: `Bearer ${token}` } });
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`priming ${server.primeUrl} answered ${response.status}`);
      }),
    );
  }
}

/** The server's CPU time so far (µs), asked over its IPC channel. */
function cpuOf(server: BenchServer): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bench server did not report its CPU time')), 5000);
    server.child.once('message', (message: { cpu: NodeJS.CpuUsage }) => {
      clearTimeout(timer);
      resolve(message.cpu.user + message.cpu.system);
    });
    server.child.send('cpu');
  });
}

/** Requests each connection keeps in flight: enough that the server always has the next one waiting. */
const IN_FLIGHT_PER_CONNECTION = 4;

const percentile = (sorted: Float64Array, p: number) => (sorted.length === 0 ? 0 : Number(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(2)));

export async function load(server: BenchServer, tokens: string[], durationSec: number, connections: number): Promise<LoadResult> {
  const cpuBefore = await cpuOf(server);
  const result = await httpLoad(server.url, tokens, durationSec, connections, IN_FLIGHT_PER_CONNECTION);
  const cpuUs = (await cpuOf(server)) - cpuBefore;
  return {
    rps: result.requests / result.seconds,
    p50Ms: percentile(result.latenciesMs, 0.5),
    p99Ms: percentile(result.latenciesMs, 0.99),
    non2xx: result.non2xx,
    cpuUsPerRequest: cpuUs / Math.max(1, result.requests),
  };
}

/**
 * Loads two servers for the same seconds at once, `secondFirst` swapping which load starts first; the answer is in
 * the order given. Both first run a discarded `warmupSec` side by side: a server that sat idle while others were
 * measured has let V8 shrink its heap (with one bare server loaded in every pair and no such second, a second bare
 * server read 0.82-0.86 of bare).
 */
export async function loadSideBySide(first: BenchServer, second: BenchServer, tokens: string[], how: { secondFirst: boolean; warmupSec: number; measureSec: number; connections: number }): Promise<[LoadResult, LoadResult]> {
  const { warmupSec, measureSec, connections } = how;
  await Promise.all([load(first, tokens, warmupSec, connections), load(second, tokens, warmupSec, connections)]);
  if (!how.secondFirst) return Promise.all([load(first, tokens, measureSec, connections), load(second, tokens, measureSec, connections)]);
  const [secondResult, firstResult] = await Promise.all([load(second, tokens, measureSec, connections), load(first, tokens, measureSec, connections)]);
  return [firstResult, secondResult];
}
