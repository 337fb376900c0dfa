// The emulator's CLI as a child process (the built `dist/testing/cli.js`, as `npx entra-emulator` runs it).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(__dirname, '../../dist/testing/cli.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh folder under the OS temp dir for each test (`current()`), removed after it. */
export function useTempDir(prefix: string): { current(): string } {
  let folder: string | undefined;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
    folder = undefined;
  });
  return {
    current: () => {
      if (!folder) throw new Error('useTempDir(): used outside a test');
      return folder;
    },
  };
}

/** Runs `node ...args` to its end, with `env` added to this process's environment. */
export function runNode(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Runs the CLI to its end (for flags that exit: --version, --print-seed, usage errors). */
export function runCli(args: string[], cwd?: string): Promise<CliResult> {
  return runNode([CLI, ...args], {}, cwd);
}

export interface RunningCli {
  authorityHost: string;
  /** What it printed before it was listening (the banner, warnings). */
  stdout: string;
  stderr: string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts the CLI and resolves once it prints where it listens; rejects if it exits first. */
export function startCli(args: string[], cwd?: string): Promise<RunningCli> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, '--port', '0', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((resolveExit) => child.once('close', resolveExit));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening at (https:\/\/\S+)/.exec(stdout);
      if (match && /Ctrl-C to stop/.test(stdout)) {
        resolvePromise({ authorityHost: match[1]!, stdout, stderr, stop: () => (child.kill('SIGTERM'), exited) });
      }
    });
    void exited.then((code) => reject(new Error(`the CLI exited (${code}) before listening:\n${stdout}\n${stderr}`)));
  });
}
