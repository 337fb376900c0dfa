import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '../../support/free-port.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether something answers PING at `url`: checked synchronously, since Jest's `describe` cannot wait. */
function answersPing(url: string): boolean {
  const probe = `
    const { hostname, port } = new URL(${JSON.stringify(url)});
    const socket = require('node:net').connect(Number(port || 6379), hostname || '127.0.0.1');
    socket.setTimeout(1000, () => process.exit(1));
    socket.on('error', () => process.exit(1));
    socket.on('connect', () => socket.write('PING\\r\\n'));
    socket.on('data', (data) => process.exit(String(data).startsWith('+PONG') ? 0 : 1));`;
  try {
    execFileSync(process.execPath, ['-e', probe], { stdio: 'ignore', timeout: 3000 });
    return true;
  } catch {
    return false;
  }
}

function hasRedisServerBinary(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * `describe` when Redis answers. On a developer machine without Redis the suite is skipped with a visible notice; with
 * `CI` set a missing Redis is a failure, never a skip.
 */
export function describeWithRedis(name: string, body: () => void, requirements: { ownServer?: boolean } = {}): void {
  const missing = !answersPing(REDIS_URL) ? `no Redis answers at ${REDIS_URL}` : requirements.ownServer && !hasRedisServerBinary() ? 'redis-server is not installed' : undefined;
  if (!missing) {
    describe(name, body);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it('needs Redis', () => {
        throw new Error(`${missing}: CI must provide it (REDIS_URL or redis-server)`);
      });
    });
    return;
  }
  console.warn(`Skipping "${name}": ${missing} (set REDIS_URL, or install redis-server)`);
  describe.skip(name, body);
}

/** A unique key prefix per test, so runs never see each other's entries. */
export function uniquePrefix(label: string): string {
  return `nestjs-entra-obo-test:${label}:${process.pid}:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}:`;
}

/** Deletes every key under `prefix`. */
export async function flushPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const client = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** A redis-server of the test's own, on a free loopback port, that the test can stop and start again. */
export class OwnRedisServer {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(await freePort());
    await server.resume();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async resume(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let attempt = 0; attempt < 100; attempt += 1) {
      if (answersPing(this.url)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}
