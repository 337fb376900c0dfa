import { resolveEmulatorOptions } from './emulator-options.js';
import { DEFAULT_TOKEN_LIFETIMES } from './token-lifetimes.js';

describe('resolveEmulatorOptions', () => {
  it('fills in the defaults: loopback, a free port, the default directory, Entra-like lifetimes', () => {
    expect(resolveEmulatorOptions()).toEqual({
      host: '127.0.0.1',
      port: 0,
      hostnames: [],
      dataDir: undefined,
      lifetimes: DEFAULT_TOKEN_LIFETIMES,
      randomSeed: undefined,
      seed: 'default',
      allowLoginHintSignIn: true,
    });
  });

  it('keeps what is given', () => {
    const seed = () => undefined;
    const resolved = resolveEmulatorOptions({ host: '::1', port: 44321, hostnames: ['entra'], dataDir: '/tmp/entra', seed, randomSeed: 7, allowLoginHintSignIn: false, tokenLifetimes: { idTokenSec: 60 } });
    expect(resolved).toEqual({ host: '::1', port: 44321, hostnames: ['entra'], dataDir: '/tmp/entra', seed, randomSeed: 7, allowLoginHintSignIn: false, lifetimes: { ...DEFAULT_TOKEN_LIFETIMES, idTokenSec: 60 } });
  });

  it('reports every problem at once, one per line, naming each option', () => {
    let message = '';
    try {
      resolveEmulatorOptions({ host: '10.0.0.1', port: 70000, hostnames: ['entra', 'not a name'], dataDir: '', randomSeed: 1.5, seed: 'full' as never, tokenLifetimes: { idTokenSec: -1 } });
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
      message = (error as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'startEntraEmulator: invalid options:',
      "- host must be a loopback address (127.0.0.1, ::1 or localhost), got '10.0.0.1'; set allowNonLoopbackHost to listen beyond this machine",
      "- hostnames: 'not a name' is not a host name (letters, digits, hyphens and dots)",
      '- dataDir must be a folder path',
      '- port must be an integer from 0 to 65535, got 70000',
      '- tokenLifetimes.idTokenSec must be a positive integer of seconds, got -1',
      '- randomSeed must be an integer, got 1.5',
      "- seed must be 'default', 'empty', a function or a seed object",
    ]);
  });

  // RFC 1122 §3.2.1.3: all of 127.0.0.0/8 is loopback, so 127.0.0.2 needs no flag.
  it.each(['127.0.0.1', '127.0.0.2', '::1', 'localhost'])('takes the loopback host %p without allowNonLoopbackHost', (host) => {
    expect(resolveEmulatorOptions({ host }).host).toBe(host);
  });

  it('takes 0.0.0.0 only with allowNonLoopbackHost', () => {
    expect(() => resolveEmulatorOptions({ host: '0.0.0.0' })).toThrow(/host must be a loopback address .*got '0\.0\.0\.0'; set allowNonLoopbackHost/);
    expect(resolveEmulatorOptions({ host: '0.0.0.0', allowNonLoopbackHost: true }).host).toBe('0.0.0.0');
  });

  it('refuses a host that is neither an address nor a name, even with allowNonLoopbackHost', () => {
    expect(() => resolveEmulatorOptions({ host: 'http://entra', allowNonLoopbackHost: true })).toThrow("host must be an IP address or a host name, got 'http://entra'");
  });
});
