import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readmeBlock } from './readme-blocks.js';

const run = promisify(execFile);
const packageRoot = resolve(__dirname, '../..');
const tsc = join(packageRoot, 'node_modules/typescript/bin/tsc');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * What `npm pack` ships, installed into a fresh CommonJS application the way a user installs it: the package with the
 * optional peers its subpaths need, then, as devDependencies, what the app's tests need. Packed and installed once
 * for the whole suite; `--prefer-offline` answers from npm's cache (filled by `npm ci` and earlier runs), so a warm
 * run makes no network request.
 */
let app: string;
let installed: string;
/** Whether installing the package and its subpaths' peers, before any devDependency, brought @peculiar/x509. */
let productionInstallHasX509: boolean;

async function npmIn(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run(npm, args, { cwd, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

beforeAll(async () => {
  if (!existsSync(join(packageRoot, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  app = await mkdtemp(join(tmpdir(), 'entra-obo-fresh-app-'));
  const packed = JSON.parse(await npmIn(packageRoot, ['pack', '--json', '--pack-destination', app])) as Array<{ filename: string }>;
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true }));
  const install = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'];
  await npmIn(app, [...install, `./${packed[0]!.filename}`, 'ioredis', '@nestjs/passport', 'passport', '@nestjs/terminus']);
  installed = join(app, 'node_modules/nestjs-entra-obo');
  productionInstallHasX509 = existsSync(join(app, 'node_modules/@peculiar/x509'));
  // Then what an app's tests add as devDependencies: the test kit's certificate library and Nest's test packages.
  await npmIn(app, [...install, '--save-dev', '@peculiar/x509', '@nestjs/testing', '@nestjs/platform-express', '@nestjs/platform-fastify']);
}, 180_000);

afterAll(async () => {
  if (app) await rm(app, { recursive: true, force: true });
});

describe('the packed package, installed into a fresh app', () => {
  it('does not pull @peculiar/x509 into a production install (only the test kit needs it)', () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('@peculiar/x509');
    expect(productionInstallHasX509).toBe(false);
  });

  it('ships LICENSE, and every source map with the sources it names', () => {
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    const maps = filesUnder(installed).filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    const missing = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] };
      return sources.map((source) => resolve(dirname(map), source)).filter((source) => !existsSync(source)).map((source) => relative(installed, source));
    });
    expect(missing).toEqual([]);
    expect(filesUnder(installed).filter((file) => file.includes('.spec.'))).toEqual([]);
  });

  it('loads with require() from a .cjs file, with no warning on stderr (require(esm), Node 20.19+)', async () => {
    await writeFile(
      join(app, 'consumer.cjs'),
      `const root = require('nestjs-entra-obo');
const { BearerStrategy } = require('nestjs-entra-obo/passport');
const { RedisTokenCache } = require('nestjs-entra-obo/redis');
const { EntraHealthIndicator } = require('nestjs-entra-obo/terminus');
console.log(JSON.stringify([typeof root.OboModule, typeof root.OboAuthGuard, typeof BearerStrategy, typeof RedisTokenCache, typeof EntraHealthIndicator]));
`,
    );
    const { stdout, stderr } = await run(process.execPath, ['consumer.cjs'], { cwd: app, timeout: 30_000 });
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual(['function', 'function', 'function', 'function', 'function']);
  });
});

// A consumer that uses a type from every entry point, and one wrong value: if a declaration did not resolve, the type
// would be missing (TS2307) or `any`, and the `@ts-expect-error` would then be unused (TS2578).
const consumerSource = (imports: string) => `${imports}

export const options: OboModuleOptions = { tenantId: '11111111-1111-1111-1111-111111111111', clientId: 'api' };
// @ts-expect-error clientId is a string
export const wrong: OboModuleOptions = { tenantId: 't', clientId: 42 };
export const emulator: EntraEmulatorOptions = {};
export const bearer: BearerStrategyOptions = { identityMetadata: 'https://login.example/v2.0/.well-known/openid-configuration', clientID: 'api' };
export const redis: Partial<RedisTokenCacheOptions> = {};
export const health: EntraHealthDetails['signingKeys'] = { loaded: false, keyIds: [] };
export const guard: typeof OboAuthGuard = OboAuthGuard;
export const loaded = [typeof OboModule, typeof guard];
`;
const staticImports = `import { OboModule, OboAuthGuard, type OboModuleOptions } from 'nestjs-entra-obo';
import type { EntraEmulatorOptions } from 'nestjs-entra-obo/testing';
import type { BearerStrategyOptions } from 'nestjs-entra-obo/passport';
import type { RedisTokenCacheOptions } from 'nestjs-entra-obo/redis';
import type { EntraHealthDetails } from 'nestjs-entra-obo/terminus';`;

// TypeScript 6 deprecates node10 resolution (TS5107) but still honours it with ignoreDeprecations; older
// TypeScript versions, where most node10 projects are, need no such flag.
const setups = [
  { name: 'module commonjs, moduleResolution node10 (a classic CommonJS Nest app)', file: 'node10.ts', options: { module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0' }, run: true },
  { name: 'module nodenext, CommonJS file (require(esm))', file: 'nodenext.cts', options: { module: 'nodenext', moduleResolution: 'nodenext' }, run: true },
  { name: 'module node20, CommonJS file (require(esm))', file: 'node20.cts', options: { module: 'node20', moduleResolution: 'node16' }, run: false },
  { name: 'module node16, ES module file', file: 'node16.mts', options: { module: 'node16', moduleResolution: 'node16' }, run: false },
  { name: 'module esnext, moduleResolution bundler', file: 'bundler.ts', options: { module: 'esnext', moduleResolution: 'bundler' }, run: false },
] as const;

// Every consumer project is written first, then one `tsc -b` builds them all: one TypeScript start-up instead of one
// per project. Diagnostics name their file, so each test reads its own.
interface ConsumerProject {
  directory: string;
  file: string;
  source: string;
  compilerOptions: Record<string, unknown>;
}
const projects: ConsumerProject[] = [
  ...setups.map(({ file, options, run: runIt }) => ({
    directory: `types-${file.replace(/\.\w+$/, '')}`,
    file,
    source: consumerSource(staticImports),
    compilerOptions: { ...options, ...(runIt ? {} : { noEmit: true }) },
  })),
  // The README's first example pasted into one file: the module may only list a controller declared above it
  // (TS2449 otherwise, a ReferenceError at run time).
  { directory: 'readme-first-example', file: 'app.module.ts', source: readmeBlock('## Use it'), compilerOptions: { module: 'nodenext', emitDecoratorMetadata: true, noEmit: true } },
  // The README's readiness route, against the installed package and @nestjs/terminus.
  { directory: 'readme-health-example', file: 'health.module.ts', source: readmeBlock('### Health checks (`nestjs-entra-obo/terminus`)'), compilerOptions: { module: 'nodenext', emitDecoratorMetadata: true, noEmit: true } },
];
let diagnostics: Promise<string[]> | undefined;

function typeCheckAll(): Promise<string[]> {
  diagnostics ??= (async () => {
    for (const project of projects) {
      const directory = join(app, project.directory);
      await mkdir(directory, { recursive: true });
      await writeFile(join(directory, project.file), project.source);
      const compilerOptions = { target: 'es2022', strict: true, skipLibCheck: true, experimentalDecorators: true, types: ['node'], typeRoots: [join(packageRoot, 'node_modules/@types')], outDir: 'out', ...project.compilerOptions };
      await writeFile(join(directory, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: [project.file] }));
    }
    const args = [tsc, '-b', ...projects.map((project) => project.directory), '--pretty', 'false'];
    const { stdout } = await run(process.execPath, args, { cwd: app, timeout: 180_000 }).catch((error: { stdout?: string; message: string }) => ({ stdout: error.stdout || error.message }));
    return stdout.split('\n').filter((line) => line.trim() !== '');
  })();
  return diagnostics;
}

async function diagnosticsOf(directory: string): Promise<string[]> {
  const all = await typeCheckAll();
  const unattributed = all.filter((line) => !projects.some((project) => line.startsWith(`${project.directory}/`)) && !/^\s/.test(line));
  expect(unattributed).toEqual([]);
  return all.filter((line) => line.startsWith(`${directory}/`));
}

describe('its type declarations resolve for every TypeScript setup', () => {
  it.each(setups)('$name', async ({ file, run: runIt }) => {
    const directory = `types-${file.replace(/\.\w+$/, '')}`;
    expect(await diagnosticsOf(directory)).toEqual([]);
    if (!runIt) return;
    const output = join('out', file.replace(/\.ts$/, '.js').replace(/\.cts$/, '.cjs'));
    const { stdout, stderr } = await run(process.execPath, ['-e', `console.log(JSON.stringify(require('./${output}').loaded))`], { cwd: join(app, directory), timeout: 30_000 });
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual(['function', 'function']);
  }, 180_000);
});

describe("the README's first example", () => {
  it('type-checks as one file of a CommonJS app (module nodenext)', async () => {
    expect(await diagnosticsOf('readme-first-example')).toEqual([]);
  }, 180_000);
});

describe("the README's health check example", () => {
  it('type-checks with nestjs-entra-obo/terminus and @nestjs/terminus installed (module nodenext)', async () => {
    expect(await diagnosticsOf('readme-health-example')).toEqual([]);
  }, 180_000);
});

describe('the README\'s "CommonJS and Jest" configuration', () => {
  // The README's jest.config.js, as is, in the fresh app (only @swc/jest is taken from this repository, not installed
  // there), running the README's "Test your own API" example against the installed package's dist/.
  it('runs the "Test your own API" example in the fresh app, on Express and Fastify', async () => {
    const config = readmeBlock('## CommonJS and Jest', 'js').replace("'@swc/jest'", JSON.stringify(join(packageRoot, 'node_modules/@swc/jest')));
    await writeFile(join(app, 'jest.config.mjs'), config);
    await mkdir(join(app, 'test'), { recursive: true });
    await writeFile(join(app, 'test/orders.e2e.spec.ts'), readmeBlock('## Test your own API'));
    const jest = join(packageRoot, 'node_modules/jest/bin/jest.js');
    const outcome = await run(process.execPath, [jest, '--rootDir', app, '--config', join(app, 'jest.config.mjs'), '--ci', '--json'], { cwd: app, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }).then(
      ({ stdout }) => stdout,
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
    const report = JSON.parse(outcome.slice(outcome.indexOf('{'))) as { numPassedTests: number; numFailedTests: number; numTotalTests: number };
    expect({ passed: report.numPassedTests, failed: report.numFailedTests }).toEqual({ passed: 8, failed: 0 });
  }, 120_000);
});
