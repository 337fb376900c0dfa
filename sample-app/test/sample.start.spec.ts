import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * `npm start` as a user runs it: the compiled sample (`node sample-app/dist/main.js`, which imports the built library by
 * its package name) in a child process, with its output read as the user would read it.
 */
const root = resolve(__dirname, '../..');
const main = join(root, 'sample-app/dist/main.js');
const run = promisify(execFile);

/** Every port 0 (free ones), except those a test sets; the CA goes to a directory of the test's own. */
function environment(outDir: string, ports: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, WEB_APP_PORT: '0', TASKS_API_PORT: '0', PROFILE_API_PORT: '0', ENTRA_EMULATOR_PORT: '0', ENTRA_EMULATOR_OUT_DIR: outDir, ...ports };
  delete env.ENTRA_AUTHORITY_HOST; // the emulator, not a real tenant
  return env;
}

describe('npm start (the sample as a child process)', () => {
  let outDir: string;

  beforeAll(async () => {
    // The sample, compiled as `npm start` compiles it (the library's dist/ is built by `npm test`'s pretest).
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'sample-app/tsconfig.json')], { cwd: root, timeout: 120_000 });
    outDir = await mkdtemp(join(tmpdir(), 'sample-start-'));
  }, 150_000);

  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('prints every tier, writes the CA and how to trust it, serves the web app, and stops on Ctrl-C', async () => {
    const child = spawn(process.execPath, [main], { cwd: root, env: environment(outDir), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    try {
      await new Promise<void>((ready, fail) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          if (stdout.includes('Ctrl-C stops.')) ready();
        });
        void exited.then((code) => fail(new Error(`npm start exited (${code}) before it was ready:\n${stdout}\n${stderr}`)));
      });
      expect(stdout).toContain('walkthrough succeeded');
      const url = (name: string) => new RegExp(`${name}[^\\n]*?(https?://[^\\s]+)`).exec(stdout)?.[1];
      const webApp = url('web app');
      expect(webApp).toMatch(/^http:\/\/localhost:\d+$/);
      expect(url('tasks API')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(url('profile API')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(url('Entra ID emulator')).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]{36}$/);

      const caFile = join(outDir, 'sample-ca.pem');
      const ca = new X509Certificate(await readFile(caFile, 'utf8'));
      expect(ca.ca).toBe(true);
      expect(stdout).toContain(`certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n entra-emulator -i ${caFile}`);

      const home = await fetch(webApp!);
      expect(home.status).toBe(200);
      expect(await home.text()).toContain('Sign in');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
  }, 60_000);

  it.each(['WEB_APP_PORT', 'TASKS_API_PORT', 'ENTRA_EMULATOR_PORT'])('says "port N is in use; set %s" and exits cleanly when that port is taken', async (variable) => {
    const squatter: Server = createServer();
    await new Promise<void>((listening) => squatter.listen(0, '127.0.0.1', listening));
    const { port } = squatter.address() as { port: number };
    try {
      const outcome = await run(process.execPath, [main], { cwd: root, env: environment(outDir, { [variable]: String(port) }), timeout: 30_000 }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(outcome.stderr).toBe(`port ${port} is in use; set ${variable}\n`);
      expect(outcome.code).toBe(1);
      // Nothing kept the process alive (every tier that had started was closed) and nothing crashed on the way out.
      expect(outcome.stdout).not.toContain('walkthrough');
    } finally {
      await new Promise((closed) => squatter.close(closed));
    }
  }, 60_000);
});
