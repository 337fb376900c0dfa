// NestJS 12, jose, openid-client and oauth4webapi ship ESM only. Jest runs our TypeScript as CommonJS through
// @swc/jest, so those packages must go through the same transform (decorator metadata on, for Nest's injector).
const esmOnlyPackages = ['@nestjs', 'jose', 'openid-client', 'oauth4webapi', 'uid', 'file-type', 'strtok3', 'token-types', '@tokenizer', 'uint8array-extras', 'load-esm'];

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/sample-app', '<rootDir>/bench'],
  modulePathIgnorePatterns: ['<rootDir>/sample-app/dist', '<rootDir>/bench/dist'],
  testMatch: ['**/*.spec.ts'],
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnlyPackages.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  // Our sources use NodeNext's explicit `.js` specifiers; Jest resolves the `.ts` file behind them.
  // The sample imports the library by its package name; Jest does not resolve a package's self-reference, so map it.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^nestjs-entra-obo$': '<rootDir>/src/index.ts',
    '^nestjs-entra-obo/(testing|passport|redis|terminus)$': '<rootDir>/src/$1/index.ts',
  },
  testTimeout: 30_000,
};
