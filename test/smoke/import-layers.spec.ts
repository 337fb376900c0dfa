import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

/**
 * The layers ARCHITECTURE.md draws, as the compiler cannot check them: a folder of `src/` imports only folders of a
 * lower layer. Same-layer folders do not import each other either, so no two folders can ever form a cycle.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['errors', 'scopes'],
  ['util', 'observability'],
  ['cache'],
  ['config'],
  ['discovery', 'redis'],
  ['auth', 'msal'],
  ['exchange'],
  ['routes', 'filters'],
  ['decorators', 'passport', 'downstream', 'terminus'],
  ['testing'],
];

/** Each outside dependency comes in through one file or one folder (ARCHITECTURE.md, "Outside dependencies"). */
const DEPENDENCY_HOMES: Record<string, readonly string[]> = {
  '@azure/msal-node': ['msal/'],
  jose: ['auth/access-token-verifier.ts', 'testing/emulator/'],
  ioredis: ['redis/'],
  '@nestjs/passport': ['passport/nest-passport.ts'],
  passport: ['passport/nest-passport.ts'],
  '@peculiar/x509': ['testing/emulator/x509-certificates.ts'],
  '@opentelemetry/api': ['observability/open-telemetry.ts'],
  '@nestjs/terminus': ['terminus/entra-health.indicator.ts'],
};

const srcRoot = resolve(__dirname, '../../src');
const rankOf = new Map(LAYERS.flatMap((folders, rank) => folders.map((folder) => [folder, rank] as const)));

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** `src/`-relative path of every module a file imports (static and type-only alike), and its bare specifiers. */
function importsOf(file: string): { local: string[]; packages: string[] } {
  const specifiers = [...readFileSync(file, 'utf8').matchAll(/\bfrom '([^']+)'|\bimport\('([^']+)'\)/g)].map((match) => match[1] ?? match[2]!);
  return {
    local: specifiers.filter((s) => s.startsWith('.')).map((s) => relative(srcRoot, resolve(file, '..', s)).split(sep).join('/')),
    packages: specifiers.filter((s) => !s.startsWith('.') && !s.startsWith('node:')),
  };
}

const folderOf = (path: string): string | undefined => (path.includes('/') ? path.split('/')[0] : undefined);
function layerViolations(sources: readonly { path: string; imports: readonly string[] }[]): string[] {
  const violations: string[] = [];
  for (const { path, imports } of sources) {
    const from = folderOf(path);
    if (from === undefined) continue; // index.ts and the module files at the root assemble every layer
    for (const target of imports) {
      const to = folderOf(target);
      if (to !== undefined && to !== from && (rankOf.get(to) ?? Infinity) >= (rankOf.get(from) ?? -1)) violations.push(`${path} → ${target}`);
    }
  }
  return violations;
}

const files = sourceFiles(srcRoot).map((file) => ({ file, path: relative(srcRoot, file).split(sep).join('/') }));

describe('import layers of src/', () => {
  it('knows every folder of src/', () => {
    const folders = new Set(files.map(({ path }) => folderOf(path)).filter((folder) => folder !== undefined));
    expect([...folders].filter((folder) => !rankOf.has(folder)).sort()).toEqual([]);
  });

  it('has no import running up or sideways between folders', () => {
    expect(layerViolations(files.map(({ file, path }) => ({ path, imports: importsOf(file).local })))).toEqual([]);
  });

  it('reports an import running up, one running sideways, and none within a folder or down', () => {
    const sample = [
      { path: 'auth/obo-auth.guard.ts', imports: ['routes/route-check.ts', 'msal/msal-token-exchanger.ts', 'auth/bearer-token.ts', 'errors/obo-errors.ts'] },
      { path: 'index.ts', imports: ['testing/index.ts'] },
    ];
    expect(layerViolations(sample)).toEqual(['auth/obo-auth.guard.ts → routes/route-check.ts', 'auth/obo-auth.guard.ts → msal/msal-token-exchanger.ts']);
  });

  it('imports each outside dependency from its one home', () => {
    const strays: string[] = [];
    for (const { file, path } of files) {
      for (const specifier of importsOf(file).packages) {
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        const homes = DEPENDENCY_HOMES[name];
        if (homes && !homes.some((home) => path === home || (home.endsWith('/') && path.startsWith(home)))) strays.push(`${path} imports ${name}`);
      }
    }
    expect(strays).toEqual([]);
  });
});
