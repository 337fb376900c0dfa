// The scaffolding every suite that talks to the emulator shares: one emulator per suite, put back between tests.
import { startEntraEmulator, type EmulatorUser, type EntraEmulator, type EntraEmulatorOptions, type IssueAccessTokenOptions } from '../../src/testing/index.js';

export interface UseEmulatorOptions {
  /**
   * `'each'` (the default): `reset()` after every test, so no test sees what another left (a policy, a fault, the
   * clock, a rotated key). `'never'`: the suite's tests build on each other, or on the request log across tests.
   */
  reset?: 'each' | 'never';
}

/**
 * Starts an emulator before the suite's tests, resets it after each (see `reset`), and closes it after them. Returns
 * the emulator itself to use in the tests: a stand-in that forwards to the one `beforeAll` started, so a suite writes
 * `const entra = useEmulator()` at the top of its `describe` instead of a `let` and three hooks.
 */
export function useEmulator(options: EntraEmulatorOptions = {}, { reset = 'each' }: UseEmulatorOptions = {}): EntraEmulator {
  let started: EntraEmulator | undefined;
  beforeAll(async () => {
    started = await startEntraEmulator(options);
  });
  if (reset === 'each') afterEach(() => started?.reset());
  afterAll(async () => {
    await started?.close();
    started = undefined;
  });
  const current = (): EntraEmulator => {
    if (!started) throw new Error('useEmulator(): the emulator is used outside a test (it starts in beforeAll)');
    return started;
  };
  return new Proxy({} as EntraEmulator, {
    get(_target, property) {
      const emulator = current();
      const value: unknown = Reflect.get(emulator, property, emulator);
      // Methods are bound to the emulator; own function-valued fields (`fetch`) are handed out as they are.
      const isMethod = typeof value === 'function' && !Object.prototype.hasOwnProperty.call(emulator, property);
      return isMethod ? (value as (...args: unknown[]) => unknown).bind(emulator) : value;
    },
    has: (_target, property) => Reflect.has(current(), property),
  });
}

/** A user's access token for the default middle-tier API, as the web app holds it after the user signed in. */
export function userToken(entra: EntraEmulator, user: EmulatorUser | string = entra.defaults.users.member, extra: Partial<IssueAccessTokenOptions> = {}): Promise<string> {
  const { apps } = entra.defaults;
  return entra.issueAccessToken({ user, client: apps.webApp.app, resource: apps.middleTierApi.app, scopes: ['access_as_user'], ...extra });
}
