import { Logger } from '@nestjs/common';
import { SigningKeyStore, type SigningJwk } from './signing-key-store.js';

const JWKS_URI = 'https://login.example.test/tenant/discovery/v2.0/keys';
const REFRESH_INTERVAL_MS = 24 * 3_600_000;
const COOLDOWN_MS = 5 * 60_000;
const START_MS = Date.UTC(2030, 0, 1);

function rsaKey(kid: string, modulus = `modulus-of-${kid}`): SigningJwk {
  return { kty: 'RSA', kid, use: 'sig', n: modulus, e: 'AQAB', issuer: 'https://login.example.test/{tenantid}/v2.0' };
}

/** A JWKS endpoint the test controls: what it publishes, whether it fails, and when a response arrives. */
class FakeJwksEndpoint {
  keys: unknown[] = [rsaKey('key-1'), rsaKey('key-2')];
  failWith: 'status' | 'network' | 'not-json' | 'no-keys' | undefined;
  requests: string[] = [];
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;

  readonly fetch: typeof fetch = async (input) => {
    this.requests.push(String(input));
    if (this.gate) await this.gate;
    switch (this.failWith) {
      case 'network':
        throw new TypeError('fetch failed');
      case 'status':
        return new Response('oops', { status: 503 });
      case 'not-json':
        return new Response('<html>', { status: 200 });
      case 'no-keys':
        return Response.json({ value: [] });
      default:
        return Response.json({ keys: this.keys });
    }
  };

  /** Holds responses back until `release()`, to have several callers waiting on one fetch. */
  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }
}

describe('SigningKeyStore', () => {
  let nowMs: number;
  let endpoint: FakeJwksEndpoint;
  let store: SigningKeyStore;

  beforeEach(() => {
    nowMs = START_MS;
    endpoint = new FakeJwksEndpoint();
    store = new SigningKeyStore({
      jwksUri: async () => JWKS_URI,
      fetch: endpoint.fetch,
      nowMs: () => nowMs,
      timeoutMs: 1_000,
      refreshIntervalMs: REFRESH_INTERVAL_MS,
      unknownKidCooldownMs: COOLDOWN_MS,
    });
    // The store reports refreshes and failures through Nest's logger; the tests assert on them instead of printing.
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('fetches the key set on the first get', async () => {
    expect(store.has('key-1')).toBe(false);
    expect(store.isStale).toBe(true);
    await expect(store.get('key-1')).resolves.toEqual(rsaKey('key-1'));
    expect(endpoint.requests).toEqual([JWKS_URI]);
    expect(store.has('key-2')).toBe(true);
    expect(store.isStale).toBe(false);
  });

  it('serves known keys from memory until the refresh interval', async () => {
    await store.get('key-1');
    nowMs += REFRESH_INTERVAL_MS - 1;
    await store.get('key-1');
    await store.get('key-2');
    expect(endpoint.requests).toHaveLength(1);
  });

  it('re-fetches periodically, even for a known kid', async () => {
    await store.get('key-1');
    endpoint.keys = [rsaKey('key-1'), rsaKey('key-3')];
    nowMs += REFRESH_INTERVAL_MS;
    expect(store.isStale).toBe(true);
    await store.get('key-1');
    expect(endpoint.requests).toHaveLength(2);
    expect(store.has('key-3')).toBe(true);
    expect(store.has('key-2')).toBe(false);
  });

  it('re-fetches for an unknown kid at most once per cooldown', async () => {
    await store.get('key-1');
    nowMs += COOLDOWN_MS;
    await expect(store.get('forged-1')).resolves.toBeUndefined();
    expect(endpoint.requests).toHaveLength(2);

    for (let attempt = 0; attempt < 20; attempt += 1) {
      nowMs += 1_000;
      await expect(store.get(`forged-${attempt}`)).resolves.toBeUndefined();
    }
    expect(endpoint.requests).toHaveLength(2);

    nowMs += COOLDOWN_MS;
    await store.get('forged-again');
    expect(endpoint.requests).toHaveLength(3);
  });

  it('finds a key that was rotated in, on the first request that names it after the cooldown', async () => {
    await store.get('key-1');
    endpoint.keys = [rsaKey('key-1'), rsaKey('key-2'), rsaKey('new-key')];
    nowMs += COOLDOWN_MS;
    await expect(store.get('new-key')).resolves.toEqual(rsaKey('new-key'));
  });

  it.each(['status', 'network', 'not-json', 'no-keys'] as const)('keeps the last good keys when a fetch fails (%s)', async (failure) => {
    await store.get('key-1');
    const version = store.version;
    endpoint.failWith = failure;
    nowMs += REFRESH_INTERVAL_MS;
    await expect(store.get('key-1')).resolves.toEqual(rsaKey('key-1'));
    expect(endpoint.requests).toHaveLength(2);
    expect(store.has('key-1')).toBe(true);
    expect(store.has('key-2')).toBe(true);
    expect(store.version).toBe(version);
    expect(Logger.prototype.warn).toHaveBeenCalledWith(expect.stringMatching(/keeping the last good keys/));
  });

  it('waits for the cooldown before trying again after a failure, then recovers', async () => {
    await store.get('key-1');
    endpoint.failWith = 'status';
    nowMs += REFRESH_INTERVAL_MS;
    await store.get('key-1');
    nowMs += COOLDOWN_MS - 1;
    await store.get('key-1');
    expect(endpoint.requests).toHaveLength(2);
    endpoint.failWith = undefined;
    endpoint.keys = [rsaKey('key-9')];
    nowMs += 1;
    await expect(store.get('key-9')).resolves.toEqual(rsaKey('key-9'));
    expect(endpoint.requests).toHaveLength(3);
  });

  it('forgets keys the endpoint no longer publishes', async () => {
    await store.get('key-1');
    endpoint.keys = [rsaKey('key-2')];
    nowMs += REFRESH_INTERVAL_MS;
    await store.refresh();
    expect(store.has('key-1')).toBe(false);
    expect(store.has('key-2')).toBe(true);
    await expect(store.get('key-1')).resolves.toBeUndefined();
  });

  it('bumps version only when the key set changes', async () => {
    expect(store.version).toBe(0);
    await store.refresh();
    expect(store.version).toBe(1);
    nowMs += COOLDOWN_MS;
    await store.refresh();
    expect(store.version).toBe(1);
    endpoint.keys = [rsaKey('key-1'), rsaKey('key-2'), rsaKey('key-3')];
    await store.refresh();
    expect(store.version).toBe(2);
    endpoint.keys = [rsaKey('key-2'), rsaKey('key-3')];
    await store.refresh();
    expect(store.version).toBe(3);
    endpoint.keys = [rsaKey('key-3'), rsaKey('key-2')];
    await store.refresh();
    expect(store.version).toBe(3);
  });

  it('bumps version when a kid is republished with other key material', async () => {
    await store.refresh();
    const version = store.version;
    endpoint.keys = [rsaKey('key-1', 'a-different-modulus'), rsaKey('key-2')];
    await store.refresh();
    expect((await store.get('key-1'))?.n).toBe('a-different-modulus');
    // Dependants cache imported keys per version; an unchanged version would keep verifying with the old material.
    expect(store.version).toBe(version + 1);
  });

  it('ignores keys that are not RSA signing keys', async () => {
    endpoint.keys = [
      rsaKey('rsa-sig'),
      { ...rsaKey('rsa-no-use'), use: undefined },
      { ...rsaKey('rsa-enc'), use: 'enc' },
      { kty: 'EC', kid: 'ec-key', crv: 'P-256', x: 'x', y: 'y', use: 'sig' },
      { kty: 'oct', kid: 'hmac-key', k: 'c2VjcmV0' },
      { kty: 'RSA', n: 'no-kid', e: 'AQAB' },
      null,
      'not a key',
    ];
    await store.refresh();
    expect(store.has('rsa-sig')).toBe(true);
    expect(store.has('rsa-no-use')).toBe(true);
    for (const kid of ['rsa-enc', 'ec-key', 'hmac-key']) expect(store.has(kid)).toBe(false);
  });

  it('shares one fetch among concurrent refreshes', async () => {
    endpoint.hold();
    const refreshes = [store.refresh(), store.refresh(), store.refresh()];
    endpoint.release();
    await Promise.all(refreshes);
    expect(endpoint.requests).toHaveLength(1);
    nowMs += COOLDOWN_MS;
    await store.refresh();
    expect(endpoint.requests).toHaveLength(2);
  });

  it('gives concurrent first requests the keys of the one fetch in flight', async () => {
    endpoint.hold();
    const lookups = [store.get('key-1'), store.get('key-2'), store.get('key-1')];
    // Let every lookup reach the store before the response arrives, as requests do at start-up.
    await Promise.resolve();
    endpoint.release();
    await expect(Promise.all(lookups)).resolves.toEqual([rsaKey('key-1'), rsaKey('key-2'), rsaKey('key-1')]);
    expect(endpoint.requests).toHaveLength(1);
  });

  it('asks discovery for the JWKS address on every fetch, so a changed address is followed', async () => {
    const addresses = ['https://a.example.test/keys', 'https://b.example.test/keys'];
    const following = new SigningKeyStore({
      jwksUri: async () => addresses.shift() ?? 'https://none.example.test/keys',
      fetch: endpoint.fetch,
      nowMs: () => nowMs,
      timeoutMs: 1_000,
      refreshIntervalMs: REFRESH_INTERVAL_MS,
      unknownKidCooldownMs: COOLDOWN_MS,
    });
    await following.refresh();
    await following.refresh();
    expect(endpoint.requests).toEqual(['https://a.example.test/keys', 'https://b.example.test/keys']);
  });
});
