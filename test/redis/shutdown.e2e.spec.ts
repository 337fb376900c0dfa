import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DOWNSTREAM_READ } from '../e2e/support/test-app.js';
import { describeWithRedis, flushPrefix, REDIS_URL, uniquePrefix } from './support/redis.js';

const packageRoot = resolve(__dirname, '../..');
// Far beyond what a clean exit needs (well under a second after app.close()); a process still alive then is held open.
const HANG_LIMIT_MS = 20_000;

describeWithRedis('the README Redis example, run as an application', () => {
  const prefix = uniquePrefix('shutdown');

  beforeAll(() => {
    if (!existsSync(join(packageRoot, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  });
  afterAll(() => flushPrefix(prefix));

  it('exits by itself after app.close(): the module closed the cache it was given, and no socket is left', async () => {
    const child = spawn(process.execPath, [join(__dirname, 'fixtures/readme-redis-example.mjs')], {
      cwd: packageRoot,
      env: { ...process.env, REDIS_URL, TOKEN_CACHE_KEYS: randomBytes(32).toString('base64'), KEY_PREFIX: prefix, DOWNSTREAM_SCOPE: DOWNSTREAM_READ },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exit = await new Promise<{ code: number | null; hung: boolean }>((done) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done({ code: null, hung: true });
      }, HANG_LIMIT_MS);
      child.once('exit', (code) => {
        clearTimeout(timer);
        done({ code, hung: false });
      });
    });
    expect({ ...exit, stderr }).toEqual({ code: 0, hung: false, stderr: '' });
    // It did use Redis: one exchange, then a cache hit.
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ exchanged: true, cachedAfter: true });
  });
});

describe('closing a RedisTokenCache whose Redis never answered', () => {
  it('leaves no timer holding the process longer than one operation timeout (ioredis alone would wait 2 s)', async () => {
    // Port 1 on loopback: nothing listens, every connection is refused.
    const child = spawn(process.execPath, [join(__dirname, 'fixtures/close-unreachable.mjs')], {
      cwd: packageRoot,
      env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', TOKEN_CACHE_KEYS: randomBytes(32).toString('base64') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const pendingDelays = JSON.parse(stdout.trim()) as number[];
    expect(pendingDelays.every((delay) => delay <= 100)).toBe(true);
  });
});
