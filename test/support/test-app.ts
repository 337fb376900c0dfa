// The e2e scaffolding: the test API of test/e2e/support/test-app.ts, started for a suite (or for each test) and closed
// after it, so no failing test leaks a listening app.
import type { INestApplication } from '@nestjs/common';
import type { OboModuleOptions } from '../../src/index.js';
import type { EntraEmulator } from '../../src/testing/index.js';
import { middleTierOptions, startTestApp, type AdapterName } from '../e2e/support/test-app.js';

/** The running app and its base URL; read them inside tests (they are set in `beforeAll` / `beforeEach`). */
export interface TestApp {
  readonly app: INestApplication;
  readonly url: string;
}

export interface UseTestAppOptions {
  /** Module options over the middle tier's defaults; a function is called when the app starts (it may read `entra`). */
  overrides?: Partial<OboModuleOptions> | (() => Partial<OboModuleOptions>);
  /** Register `OboAuthGuard` globally. */
  globalGuard?: boolean;
  /** `'suite'` (the default): one app for the describe block; `'test'`: a fresh app (fresh caches) for each test. */
  per?: 'suite' | 'test';
}

/** Starts the test API on `adapter` against `entra` before the suite's (or each) test and closes it after. */
export function useTestApp(adapter: AdapterName, entra: EntraEmulator, options: UseTestAppOptions = {}): TestApp {
  let started: { app: INestApplication; url: string } | undefined;
  const start = async () => {
    const overrides = typeof options.overrides === 'function' ? options.overrides() : (options.overrides ?? {});
    started = await startTestApp(adapter, middleTierOptions(entra, overrides), options.globalGuard === undefined ? {} : { globalGuard: options.globalGuard });
  };
  const stop = async () => {
    await started?.app.close();
    started = undefined;
  };
  if (options.per === 'test') {
    beforeEach(start);
    afterEach(stop);
  } else {
    beforeAll(start);
    afterAll(stop);
  }
  const current = () => {
    if (!started) throw new Error('useTestApp(): the app is used outside a test (it starts in beforeAll / beforeEach)');
    return started;
  };
  return {
    get app() {
      return current().app;
    },
    get url() {
      return current().url;
    },
  };
}
