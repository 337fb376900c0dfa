// `npm run bench -- --perf <scenario> <adapter> [<base>]`: the bare server (or the base scenario's) and that
// scenario's, one after the other under the same load, each sampled by Linux `perf` (user and kernel, JIT frames named
// through `--perf-basic-prof`); then the CPU time per request of every function in both, and the functions whose time
// per request grew the most. V8's own profiler (`--profile`) credits code inlined into a caller to that caller (our
// guard's work shows up as Nest's `tryActivate`) and sees neither the kernel nor the garbage collector's threads;
// `perf` sees all of them. Each recording keeps its call graphs, for the inclusive time under our code and Nest's guard
// call (perf-regions.ts).
import { execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load, prime, startServer } from './load.js';
import { keepLatestSymbols } from './perf-map.js';
import { microsPerRequest, regionTimes, type Region, type RegionTime } from './perf-regions.js';
import { ADAPTERS, SERVER_SCENARIOS, type AdapterName, type BenchEnvironment, type ServerScenario } from './shared.js';

const SAMPLES_PER_SEC = 2999;
const LOAD_SEC = 6;
const CONNECTIONS = 16;

/**
 * Where a guard's and a parameter's time goes in all. V8 inlines the guard's `canActivate` into Nest's `tryActivate`,
 * and that into `canActivateFn`, differently in each process, so the guard's region is Nest's whole guard call (against
 * the no-op guard, the difference is ours); the library's region is every stack through a function of its `dist/` that
 * was not inlined (the parameter factories, the verifier's checks).
 */
function regionsOf(here: string): Region[] {
  const library = pathToFileURL(resolve(here, '..', '..', 'dist')).href + '/';
  return [
    { label: "Nest's guard call (`canActivateFn` and `tryActivate`, the guards' `canActivate` often inlined into them)", frame: /(canActivateFn|tryActivate) .*@nestjs\/core\// },
    { label: 'functions of this library (its `dist/`) and what they call', frame: new RegExp(library.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) },
  ];
}

/** Per-request µs of each function (`dso symbol`), from `perf report` of one recording. */
export function perRequestMicros(report: string, requests: number, samplesPerSec = SAMPLES_PER_SEC): Map<string, number> {
  const micros = new Map<string, number>();
  for (const line of report.split('\n')) {
    const match = /^\s*[\d.]+%\s+(\d+)\s+(.+?)\s+\[([.k])\]\s+(.*)$/.exec(line);
    if (!match) continue;
    const [, samples, dso, kind, symbol] = match as unknown as [string, string, string, string, string];
    // JIT code is named per process (`[JIT] tid 1234`) and by address when unnamed: merge those across processes.
    const name = `${kind === 'k' ? '[kernel]' : dso.replace(/^\[JIT\] tid \d+$/, '[JIT]')} ${symbol.replace(/0x[0-9a-f]+/g, '').trim()}`;
    micros.set(name, (micros.get(name) ?? 0) + microsPerRequest(Number(samples), samplesPerSec, requests));
  }
  return micros;
}

async function record(here: string, scenario: ServerScenario, adapter: AdapterName, environment: BenchEnvironment, tokens: string[], file: string): Promise<number> {
  const server = await startServer(here, scenario, adapter, environment, undefined, { NODE_OPTIONS: '--perf-basic-prof' });
  try {
    await prime(server, tokens);
    await load(server, tokens, 3, CONNECTIONS); // warm the JIT first
    const perf = spawn('perf', ['record', '-g', '-F', String(SAMPLES_PER_SEC), '-p', String(server.child.pid), '-o', file], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const result = await load(server, tokens, LOAD_SEC, CONNECTIONS);
    perf.kill('SIGINT');
    await new Promise((resolve) => perf.once('exit', resolve));
    return Math.round(result.rps * LOAD_SEC);
  } finally {
    const exited = server.child.exitCode === null && server.child.signalCode === null ? new Promise((resolve) => server.child.once('exit', resolve)) : undefined;
    server.child.kill('SIGTERM');
    await exited;
    // Its perf map is complete once it exited: each address is named after its latest code (perf-map.ts).
    await keepLatestSymbols(server.child.pid!);
  }
}

function report(file: string): string {
  return execFileSync('perf', ['report', '-i', file, '--no-children', '-g', 'none', '--stdio', '-n', '--sort', 'dso,sym'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
}

export async function perfDiff(here: string, resultsDir: string, args: string[], environment: BenchEnvironment, tokens: string[]): Promise<void> {
  const [scenario, adapter, base = 'bare'] = args as [ServerScenario, AdapterName, ServerScenario?];
  if (!SERVER_SCENARIOS.includes(scenario) || !ADAPTERS.includes(adapter) || !SERVER_SCENARIOS.includes(base)) {
    throw new Error(`--perf takes a scenario (${SERVER_SCENARIOS.join(', ')}), an adapter (${ADAPTERS.join(', ')}) and optionally the scenario to compare it with (bare when not given)`);
  }
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('--perf needs Linux perf (Debian: apt-get install linux-perf) and permission to sample the servers (root, or kernel.perf_event_paranoid <= 1)');
  }
  const bareFile = join(tmpdir(), `nestjs-entra-obo-perf-base-${base}.data`);
  const scenarioFile = join(tmpdir(), `nestjs-entra-obo-perf-${scenario}.data`);
  const bareRequests = await record(here, base, adapter, environment, tokens, bareFile);
  const scenarioRequests = await record(here, scenario, adapter, environment, tokens, scenarioFile);
  const bare = perRequestMicros(report(bareFile), bareRequests);
  const measured = perRequestMicros(report(scenarioFile), scenarioRequests);
  const regions = regionsOf(here);
  const bareRegions = await regionTimes(bareFile, regions, bareRequests, SAMPLES_PER_SEC);
  const measuredRegions = await regionTimes(scenarioFile, regions, scenarioRequests, SAMPLES_PER_SEC);
  const total = (micros: Map<string, number>) => [...micros.values()].reduce((sum, value) => sum + value, 0);
  const names = new Set([...bare.keys(), ...measured.keys()]);
  const growth = [...names].map((name) => ({ name, bare: bare.get(name) ?? 0, measured: measured.get(name) ?? 0 })).sort((a, b) => b.measured - b.bare - (a.measured - a.bare));
  const row = ({ name, bare: before, measured: after }: (typeof growth)[number]) => `| ${(after - before).toFixed(3)} | ${before.toFixed(3)} | ${after.toFixed(3)} | \`${name.replaceAll('|', '\\|').slice(0, 140)}\` |`;
  const text = [
    `CPU time per request by function, \`${base}\` against \`${scenario}\` on ${adapter} (Linux perf at ${SAMPLES_PER_SEC} Hz, ${LOAD_SEC} s of load each after priming and warm-up, one process after the other; the same process's time in the kernel and in V8's helper threads included): ${base} ${total(bare).toFixed(1)} µs over ${bareRequests} requests, ${scenario} ${total(measured).toFixed(1)} µs over ${scenarioRequests}. A single pair of processes: repeat it before reading anything under about 0.1 µs, and read the kernel's lines (its time after interrupts) as noise of the machine.`,
    '',
    `| µs more per request | ${base} | ${scenario} | function |`,
    '|---|---|---|---|',
    ...growth.slice(0, 30).map(row),
    '',
    ...regionTable(base, scenario, bareRegions, measuredRegions),
  ].join('\n');
  await writeFile(join(resultsDir, `perf-${scenario}-${adapter}${base === 'bare' ? '' : `-vs-${base}`}.md`), text);
  console.log(`\n${text}`);
}

/** The inclusive time under each region in both processes, and the scenario's largest leaves in each. */
function regionTable(base: string, scenario: string, before: RegionTime[], after: RegionTime[]): string[] {
  const lines = [
    `Inclusive CPU time per request under a region: a sample counts when any frame of its call chain is in the region (perf's call graphs, frame pointers), so a guard's or a parameter's builtins, clock reads and runtime calls count with it.`,
    '',
    `| region | ${base} µs | ${scenario} µs | µs more |`,
    '|---|---|---|---|',
    ...after.map((region, index) => `| ${region.label} | ${before[index]!.micros.toFixed(3)} | ${region.micros.toFixed(3)} | ${(region.micros - before[index]!.micros).toFixed(3)} |`),
    '',
  ];
  for (const region of after) {
    if (region.leaves.length === 0) continue;
    lines.push(`Largest leaves under ${region.label} in \`${scenario}\`: ${region.leaves.map(({ name, micros }) => `\`${name.replaceAll('|', '\\|').slice(0, 100)}\` ${micros.toFixed(3)}`).join(', ')}.`, '');
  }
  return lines;
}
