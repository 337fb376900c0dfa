// @peculiar/x509 is an optional peer: the built package (ESM, as apps load it) must import without it, and starting
// an emulator that has to make a certificate must say how to install it. A loader hook in a child process makes the
// package unresolvable, as in an app that never installed it.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runNode, useTempDir } from './emulator-cli-kit.js';

const TESTING_ENTRY = pathToFileURL(resolve(__dirname, '../../dist/testing/index.js')).href;

/** A module that registers a resolve hook refusing @peculiar/x509 the way Node refuses a package that is not installed. */
const HIDE_X509 = `
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
  export async function resolve(specifier, context, next) {
    if (specifier === '@peculiar/x509' || specifier.startsWith('@peculiar/x509/')) {
      const error = new Error("Cannot find package '@peculiar/x509' imported from " + context.parentURL);
      error.code = 'ERR_MODULE_NOT_FOUND';
      throw error;
    }
    return next(specifier, context);
  }
\`));
`;

function runWithoutX509(script: string, env: NodeJS.ProcessEnv) {
  return runNode(['--import', `data:text/javascript,${encodeURIComponent(HIDE_X509)}`, '--input-type=module', '-e', script], env);
}

describe('nestjs-entra-obo/testing without @peculiar/x509', () => {
  const cacheDir = useTempDir('entra-no-x509-');

  it('imports, and a start that must make certificates fails with the install command', async () => {
    // An empty key cache: the CA, TLS certificate and signing keys must all be made.
    const script = `
      const testing = await import(${JSON.stringify(TESTING_ENTRY)});
      console.log('imported', typeof testing.startEntraEmulator);
      try { await testing.startEntraEmulator(); console.log('started'); }
      catch (error) { console.log('failed:', error.message); }
    `;
    const { code, stdout, stderr } = await runWithoutX509(script, { ENTRA_EMULATOR_KEY_CACHE_DIR: cacheDir.current() });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.split('\n').filter(Boolean)).toEqual(['imported function', 'failed: nestjs-entra-obo/testing needs @peculiar/x509: npm i -D @peculiar/x509']);
  });
});
