import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';

const packageRoot = resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
  exports: Record<string, { types?: string } | string>;
  types?: string;
  typesVersions?: Record<string, Record<string, string[]>>;
  engines?: Record<string, string>;
  license?: string;
  repository?: { url?: string };
  keywords?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

describe('package.json', () => {
  it('declares every package the library imports, as a dependency or a peer', () => {
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
    const builtins = new Set(builtinModules);
    const undeclared = new Set<string>();
    for (const file of sourceFiles(join(packageRoot, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'/gm)) {
        const specifier = match[1] ?? match[2];
        if (!specifier || specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
        const name = packageNameOf(specifier);
        if (!declared.has(name)) undeclared.add(`${name} (in ${file.slice(packageRoot.length + 1)})`);
      }
    }
    expect([...undeclared]).toEqual([]);
  });

  it('exports exactly the public entry points: the module, ./testing, ./passport, ./redis and ./terminus', () => {
    expect(Object.keys(manifest.exports).sort()).toEqual(['.', './package.json', './passport', './redis', './terminus', './testing']);
  });

  // The code uses msal-node's public exports only (ConfidentialClientApplication, AuthError, ClientAuthError and its
  // codes, INetworkModule, LogLevel); the run-time details it leans on (errorNo, claims, one request per exchange) are
  // pinned by test/integration/msal-*.spec.ts. A caret range lets an app that also uses msal-node share one copy.
  it('takes @azure/msal-node as a caret range within major 7, so patch and minor releases reach apps', () => {
    expect(manifest.dependencies?.['@azure/msal-node']).toMatch(/^\^7\.\d+\.\d+$/);
  });

  it('keeps supporting Node 20.19+ (require(esm) unflagged)', () => {
    expect(manifest.engines?.node).toBe('>=20.19');
  });

  it('names its license, repository and keywords', () => {
    expect(manifest.license).toBe('MIT');
    expect(readFileSync(join(packageRoot, 'LICENSE'), 'utf8')).toContain('nestjs-entra-obo contributors');
    expect(manifest.repository?.url).toMatch(/^git\+https:\/\//);
    expect(manifest.keywords).toEqual(expect.arrayContaining(['nestjs', 'entra-id', 'on-behalf-of']));
  });

  it('points node10 resolution (top-level types, typesVersions) at the same declarations as exports', () => {
    const typesOf = (key: string) => {
      const entry = manifest.exports[key];
      return typeof entry === 'object' ? entry.types : undefined;
    };
    expect(manifest.types).toBe(typesOf('.'));
    const subpaths = Object.keys(manifest.exports).filter((key) => key !== '.' && key !== './package.json');
    expect(Object.fromEntries(subpaths.map((key) => [key.slice(2), [typesOf(key)]]))).toEqual(manifest.typesVersions?.['*']);
  });
});
