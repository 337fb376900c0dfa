// `npm run bench -- --ab <checkout> <scenario> <adapter>`: this build against another checkout's, one scenario, for a
// change to the hot path. The full run compares scenarios with bare, to about ±2% per figure; a change worth 1-3% needs
// its two builds measured the same way against each other: side by side on the one server core, three processes of
// each (two processes of one build differ by themselves), paired in rotation over nine rounds. The other checkout
// must be built (`npm run build` and `npx tsc -p bench/tsconfig.json` there): its own servers import its own dist.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { load, loadSideBySide, pinning, prime, startServer, type BenchServer } from './load.js';
import { ADAPTERS, median, SERVER_SCENARIOS, type AdapterName, type BenchEnvironment, type ServerScenario } from './shared.js';

const PROCESSES = 3;
const ROUNDS = 9;
const CONNECTIONS = 8;

export async function compareBuilds(here: string, args: string[], environment: BenchEnvironment, tokens: string[]): Promise<void> {
  const [checkout, scenario, adapter] = args as [string | undefined, ServerScenario, AdapterName];
  if (!checkout || !SERVER_SCENARIOS.includes(scenario) || !ADAPTERS.includes(adapter)) {
    throw new Error(`--ab takes another checkout's directory, a scenario (${SERVER_SCENARIOS.join(', ')}) and an adapter (${ADAPTERS.join(', ')})`);
  }
  const otherHere = join(resolve(checkout), 'bench', 'dist');
  if (!existsSync(join(otherHere, 'servers', 'http-server.js')) || !existsSync(join(resolve(checkout), 'dist', 'index.js'))) {
    throw new Error(`--ab: ${checkout} is not built; run \`npm run build && npx tsc -p bench/tsconfig.json\` there first`);
  }
  const pinned = pinning();
  const ours: BenchServer[] = [];
  const theirs: BenchServer[] = [];
  try {
    for (let index = 0; index < PROCESSES; index += 1) {
      ours.push(await startServer(here, scenario, adapter, environment, pinned));
      theirs.push(await startServer(otherHere, scenario, adapter, environment, pinned));
    }
    for (const server of [...ours, ...theirs]) await prime(server, tokens);
    for (const server of [...ours, ...theirs]) await load(server, tokens, 1, CONNECTIONS);
    const throughput: number[] = [];
    const cpu: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Each of our processes in turn, against another of theirs on its next turn; which load starts first alternates.
      const other = theirs[(round + Math.floor(round / PROCESSES)) % PROCESSES]!;
      const [their, our] = await loadSideBySide(other, ours[round % PROCESSES]!, tokens, { secondFirst: round % 2 === 1, warmupSec: 1, measureSec: 2, connections: CONNECTIONS });
      throughput.push(our.rps / their.rps);
      cpu.push(our.cpuUsPerRequest / their.cpuUsPerRequest);
      console.log(`round ${round + 1}: this build ${Math.round(our.rps)} req/s, ${checkout} ${Math.round(their.rps)} req/s, ratio ${(our.rps / their.rps).toFixed(3)}`);
    }
    const spread = (values: number[]) => `${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)}`;
    console.log(
      `\n${scenario} on ${adapter}, this build against ${checkout} (${PROCESSES} processes each, ${ROUNDS} rounds side by side${pinned ? ` on core ${pinned.serverCore}` : ''}): throughput ratio ${median(throughput).toFixed(3)} (spread ${spread(throughput)}), CPU time per request ratio ${median(cpu).toFixed(3)} (spread ${spread(cpu)}; below 1 is cheaper).`,
    );
  } finally {
    for (const server of [...ours, ...theirs]) server.child.kill('SIGTERM');
  }
}
