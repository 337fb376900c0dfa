// How long `startEntraEmulator()` takes: the first start on a machine (an empty key cache: the CA, the TLS
// certificate and the signing keys are generated), then later starts, in the same process and in a new process (as
// Jest gives each test file a fresh module registry), which reuse them. Run on its own with
// `node bench/dist/emulator-start.js`, or as part of `npm run bench`.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEntraEmulator } from 'nestjs-entra-obo/testing';
import { median } from './shared.js';

const STARTS_PER_PROCESS = 5;
const LATER_PROCESSES = 3;

export interface EmulatorStartResult {
  /** The very first start, with an empty key cache. */
  coldMs: number;
  /** Later starts in the process that made the first one (median). */
  laterSameProcessMs: number;
  /** The first start of later processes, the cache on disk warm (median). */
  laterNewProcessMs: number;
}

/** In a child: starts and closes the emulator `STARTS_PER_PROCESS` times, one after the other; prints the durations. */
async function child(): Promise<void> {
  const durations: number[] = [];
  for (let index = 0; index < STARTS_PER_PROCESS; index += 1) {
    const emulator = await startEntraEmulator();
    durations.push(emulator.startDurationMs);
    await emulator.close();
  }
  console.log(JSON.stringify({ durations }));
}

function runChild(cacheDir: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, [fileURLToPath(import.meta.url), 'child'], {
      env: { ...process.env, ENTRA_EMULATOR_KEY_CACHE_DIR: cacheDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    process_.stdout.on('data', (data: Buffer) => (output += data.toString()));
    process_.once('error', reject);
    process_.once('exit', (code) => {
      const line = output.split('\n').find((candidate) => candidate.startsWith('{"durations"'));
      if (code !== 0 || !line) return reject(new Error(`emulator start measurement failed (exit ${code})`));
      resolve((JSON.parse(line) as { durations: number[] }).durations);
    });
  });
}

export async function measureEmulatorStart(): Promise<EmulatorStartResult> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'bench-emulator-keys-'));
  try {
    const [coldMs, ...sameProcess] = await runChild(cacheDir);
    const newProcessFirsts: number[] = [];
    for (let index = 0; index < LATER_PROCESSES; index += 1) {
      const [first, ...rest] = await runChild(cacheDir);
      newProcessFirsts.push(first!);
      sameProcess.push(...rest);
    }
    return { coldMs: coldMs!, laterSameProcessMs: median(sameProcess), laterNewProcessMs: median(newProcessFirsts) };
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

export function emulatorStartLine(result: EmulatorStartResult): string {
  return `Emulator start: first ${result.coldMs} ms (empty key cache), later ${result.laterSameProcessMs} ms in the same process, ${result.laterNewProcessMs} ms as the first start of a new process (median).`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === 'child') await child();
  else console.log(emulatorStartLine(await measureEmulatorStart()));
}
