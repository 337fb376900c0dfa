// `npm run bench -- --profile <scenario> <adapter>`: one bench server, primed and loaded as in the full run, with the
// V8 CPU profiler on for the load window only; then the functions with the most self time, so a slow path shows where
// its time goes.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load, prime, startServer, type BenchServer } from './load.js';
import { ADAPTERS, SERVER_SCENARIOS, type AdapterName, type BenchEnvironment, type ServerScenario } from './shared.js';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
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

/** A frame of this library (its built `dist/`), as opposed to Node, Nest, Fastify or Express. */
const isLibraryFrame = (url: string) => url.includes('/dist/') && !url.includes('/node_modules/') && !url.includes('/bench/dist/');

/**
 * This library's share of the server's busy time: samples with a frame of ours anywhere on the stack (inclusive),
 * against all samples but `(idle)` (the server waiting for the load generator), and the outermost frames of ours that
 * the time enters through (the guard, the parameter factory), each inclusive.
 */
export function libraryShare(profile: CpuProfile): { idle: number; library: number; entries: { share: number; frame: string }[] } {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  let total = 0;
  let idle = 0;
  let library = 0;
  const entries = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    total += delta;
    if (nodes.get(id)!.callFrame.functionName === '(idle)') {
      idle += delta;
      return;
    }
    let outermost: { functionName: string; url: string; lineNumber: number } | undefined;
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const frame = nodes.get(at)!.callFrame;
      if (isLibraryFrame(frame.url)) outermost = frame;
    }
    if (!outermost) return;
    library += delta;
    const name = `${outermost.functionName || '(anonymous)'} ${outermost.url.split('/dist/').at(-1)}:${outermost.lineNumber + 1}`;
    entries.set(name, (entries.get(name) ?? 0) + delta);
  });
  const busy = Math.max(1, total - idle);
  return {
    idle: idle / Math.max(1, total),
    library: library / busy,
    entries: [...entries].filter(([, time]) => time / busy >= 0.001).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([frame, time]) => ({ share: time / busy, frame })),
  };
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
  const ours = libraryShare(profile);
  const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
  const text = [
    `Self time of \`${scenario}\` on ${adapter} (V8 CPU profiler, 10 s of load after priming and warm-up); open bench/results/profiles/${file} in Chrome DevTools`,
    '',
    `This library's code, inclusive (everything it calls): ${percent(ours.library)} of the server's busy time (the time not \`(idle)\`; idle was ${percent(ours.idle)} of the window, the server waiting for the load generator). Entered through: ${ours.entries.length > 0 ? ours.entries.map(({ share, frame }) => `\`${frame}\` ${percent(share)}`).join(', ') : 'none'}.`,
    '',
    '| self | function |',
    '|---|---|',
    ...frames.map(({ share, frame }) => `| ${percent(share)} | \`${frame}\` |`),
    '',
  ].join('\n');
  await writeFile(join(resultsDir, `profile-${scenario}-${adapter}.md`), text);
  console.log(`\n${text}`);
}
