// `npm run bench -- --profile <scenario> <adapter>`: one bench server, primed and loaded as in the full run, with the
// V8 CPU profiler on for the load window only; then the functions with the most self time, so a slow path shows where
// its time goes.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load, prime, startServer, type BenchServer } from './load.js';
import { ADAPTERS, SERVER_SCENARIOS, type AdapterName, type BenchEnvironment, type ServerScenario } from './shared.js';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (name, file, line), as shares of all samples, most first. */
export function topFrames(profile: CpuProfile, count: number): { share: number; frame: string }[] {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfTime = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const file = url.replace(/^file:\/\//, '').split('/node_modules/').at(-1)!.split('/').slice(-3).join('/');
    const frame = `${functionName || '(anonymous)'} ${file}${url ? `:${lineNumber + 1}` : ''}`;
    const delta = profile.timeDeltas[index] ?? 0;
    selfTime.set(frame, (selfTime.get(frame) ?? 0) + delta);
    total += delta;
  });
  return [...selfTime].sort((a, b) => b[1] - a[1]).slice(0, count).map(([frame, time]) => ({ share: time / total, frame }));
}

/** Sends `message` to the server and resolves with the `field` of its answer. */
function ask(server: BenchServer, message: string, field: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bench server did not answer ${message}`)), 30_000);
    const listener = (answer: Record<string, unknown>) => {
      if (!(field in answer)) return;
      clearTimeout(timer);
      server.child.off('message', listener);
      resolve(answer[field]);
    };
    server.child.on('message', listener);
    server.child.send(message);
  });
}

export async function profileScenario(here: string, resultsDir: string, args: string[], environment: BenchEnvironment, tokens: string[]): Promise<void> {
  const [scenario, adapter] = args as [ServerScenario, AdapterName];
  if (!SERVER_SCENARIOS.includes(scenario) || !ADAPTERS.includes(adapter)) {
    throw new Error(`--profile takes a scenario (${SERVER_SCENARIOS.join(', ')}) and an adapter (${ADAPTERS.join(', ')})`);
  }
  const server: BenchServer = await startServer(here, scenario, adapter, environment, undefined);
  let profile: CpuProfile;
  try {
    await prime(server, tokens);
    await load(server, tokens, 2, 16); // warm the JIT before the profiled window
    await ask(server, 'profile:start', 'profiling');
    const result = await load(server, tokens, 10, 16);
    profile = (await ask(server, 'profile:stop', 'profile')) as CpuProfile;
    console.log(`${scenario} on ${adapter} under the profiler: ${Math.round(result.rps)} req/s, server CPU ${result.cpuUsPerRequest.toFixed(1)} µs/req`);
  } finally {
    server.child.kill('SIGTERM');
  }
  const profileDir = join(resultsDir, 'profiles');
  await mkdir(profileDir, { recursive: true });
  const file = `${scenario}-${adapter}.cpuprofile`;
  await writeFile(join(profileDir, file), JSON.stringify(profile));
  const frames = topFrames(profile, 25);
  const text = [`Self time of \`${scenario}\` on ${adapter} (V8 CPU profiler, 10 s of load after priming and warm-up); open bench/results/profiles/${file} in Chrome DevTools`, '', '| self | function |', '|---|---|', ...frames.map(({ share, frame }) => `| ${(share * 100).toFixed(1)}% | \`${frame}\` |`), ''].join('\n');
  await writeFile(join(resultsDir, `profile-${scenario}-${adapter}.md`), text);
  console.log(`\n${text}`);
}
