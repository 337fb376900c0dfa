import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const packageRoot = resolve(__dirname, '../..');

// What a user's application does: resolve the package by its name through node_modules and import its subpaths.
const consumer = `
import * as root from 'nestjs-entra-obo';
import { startEntraEmulator } from 'nestjs-entra-obo/testing';
import { BearerStrategy, EntraBearerStrategy } from 'nestjs-entra-obo/passport';
import { RedisTokenCache } from 'nestjs-entra-obo/redis';
import { EntraHealthIndicator } from 'nestjs-entra-obo/terminus';

const results = {
  rootLoaded: typeof root.OboModule === 'function' && typeof root.OboAuthGuard === 'function' && typeof root.DownstreamToken === 'function',
  passportLoaded: typeof BearerStrategy === 'function' && typeof EntraBearerStrategy === 'function',
  redisLoaded: typeof RedisTokenCache === 'function',
  terminusLoaded: typeof EntraHealthIndicator === 'function',
  hidden: {},
};
for (const specifier of ['nestjs-entra-obo/dist/index.js', 'nestjs-entra-obo/src/index.ts', 'nestjs-entra-obo/dist/testing/emulator/entra-emulator.js', 'nestjs-entra-obo/passport-internal']) {
  try {
    await import(specifier);
    results.hidden[specifier] = 'loaded';
  } catch (error) {
    results.hidden[specifier] = error.code;
  }
}
const entra = await startEntraEmulator();
const response = await entra.fetch(entra.issuer(entra.defaults.tenants.primary.id) + '/.well-known/openid-configuration');
results.discovery = (await response.json()).issuer === entra.issuer(entra.defaults.tenants.primary.id);
await entra.close();
console.log(JSON.stringify(results));
`;

describe('the built package, loaded by its name', () => {
  let workspace: string;

  beforeAll(async () => {
    if (!existsSync(join(packageRoot, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    workspace = await mkdtemp(join(tmpdir(), 'entra-obo-consumer-'));
    await mkdir(join(workspace, 'node_modules'));
    await symlink(packageRoot, join(workspace, 'node_modules', 'nestjs-entra-obo'), 'dir');
    await writeFile(join(workspace, 'consumer.mjs'), consumer);
  });

  afterAll(async () => {
    if (workspace) await rm(workspace, { recursive: true, force: true });
  });

  it('exposes `.`, `./testing`, `./passport`, `./redis` and `./terminus`, works at run time, and hides everything else', async () => {
    const { stdout } = await run(process.execPath, ['consumer.mjs'], { cwd: workspace, timeout: 30_000 });
    const results = JSON.parse(stdout.trim().split('\n').pop()!) as { rootLoaded: boolean; passportLoaded: boolean; redisLoaded: boolean; terminusLoaded: boolean; discovery: boolean; hidden: Record<string, string> };
    expect(results.rootLoaded).toBe(true);
    expect(results.passportLoaded).toBe(true);
    expect(results.redisLoaded).toBe(true);
    expect(results.terminusLoaded).toBe(true);
    expect(results.discovery).toBe(true);
    for (const outcome of Object.values(results.hidden)) expect(outcome).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('ships type declarations for every exported entry point', () => {
    expect(existsSync(join(packageRoot, 'dist/index.d.ts'))).toBe(true);
    expect(existsSync(join(packageRoot, 'dist/testing/index.d.ts'))).toBe(true);
    expect(existsSync(join(packageRoot, 'dist/passport/index.d.ts'))).toBe(true);
    expect(existsSync(join(packageRoot, 'dist/redis/index.d.ts'))).toBe(true);
    expect(existsSync(join(packageRoot, 'dist/terminus/index.d.ts'))).toBe(true);
  });
});
