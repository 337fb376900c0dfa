import { Logger } from '@nestjs/common';
import { ClientConfigurationError, IdentityProviderUnavailableError } from '../errors/obo-errors.js';
import { SigningKeyStore, type SigningJwk } from './signing-key-store.js';

const JWKS_URI = 'https://login.example.test/tenant/discovery/v2.0/keys';
const REFRESH_INTERVAL_MS = 24 * 3_600_000;
const COOLDOWN_MS = 5 * 60_000;
const START_MS = Date.UTC(2030, 0, 1);
/** With the jitter pinned at its top, the n-th consecutive failure waits exactly min(2^(n-1) s, 30 s). */
const FIRST_RETRY_MS = 1_000;

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
      random: () => 0.999_999,
    });
    // The store reports refreshes and failures through Nest's logger; the tests assert on them instead of printing.
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
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

  it('re-fetches periodically, even for a known kid, in the background', async () => {
    await store.get('key-1');
    endpoint.keys = [rsaKey('key-1'), rsaKey('key-3')];
    nowMs += REFRESH_INTERVAL_MS;
    expect(store.isStale).toBe(true);
    await expect(store.get('key-1')).resolves.toEqual(rsaKey('key-1'));
    // refresh() joins the background fetch under way instead of starting another.
    await store.refresh();
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
    await store.refresh();
    expect(endpoint.requests).toHaveLength(2);
    expect(store.has('key-1')).toBe(true);
    expect(store.has('key-2')).toBe(true);
    expect(store.version).toBe(version);
    expect(Logger.prototype.warn).toHaveBeenCalledWith(expect.stringMatching(/keeping the last good keys/));
  });

  it('retries a failed periodic refresh after a short backoff, never the cooldown, and recovers', async () => {
    await store.get('key-1');
    endpoint.failWith = 'status';
    nowMs += REFRESH_INTERVAL_MS;
    await store.get('key-1');
    await store.refresh();
    expect(endpoint.requests).toHaveLength(2);
    nowMs += FIRST_RETRY_MS - 1;
    await store.get('key-1');
    expect(endpoint.requests).toHaveLength(2);
    endpoint.failWith = undefined;
    endpoint.keys = [rsaKey('key-1'), rsaKey('key-9')];
    nowMs += 1;
    await expect(store.get('key-9')).resolves.toEqual(rsaKey('key-9'));
    expect(endpoint.requests).toHaveLength(3);
    expect(Logger.prototype.log).toHaveBeenCalledWith(expect.stringMatching(/fetched again/));
  });

  it('answers "unavailable", not "unknown key", while no key set has ever loaded, and loads it after the backoff', async () => {
    endpoint.failWith = 'network';
    const failure = await store.get('key-1').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(IdentityProviderUnavailableError);
    expect((failure as IdentityProviderUnavailableError).retryAfterSec).toBe(1);
    expect(Logger.prototype.warn).toHaveBeenCalledWith(expect.stringMatching(/no keys yet/));
    // Within the backoff nothing is fetched, and the answer is still "unavailable".
    await expect(store.get('key-1')).rejects.toBeInstanceOf(IdentityProviderUnavailableError);
    expect(endpoint.requests).toHaveLength(1);
    endpoint.failWith = undefined;
    nowMs += FIRST_RETRY_MS;
    await expect(store.get('key-1')).resolves.toEqual(rsaKey('key-1'));
    expect(endpoint.requests).toHaveLength(2);
  });

  it('backs off longer on consecutive failures, bounded at 30 s, warning once per outage', async () => {
    endpoint.failWith = 'status';
    const waits: number[] = [];
    for (let attempt = 0; attempt < 7; attempt += 1) {
      const failure = (await store.get('key-1').catch((error: unknown) => error)) as IdentityProviderUnavailableError;
      waits.push(failure.retryAfterSec);
      nowMs += failure.retryAfterSec * 1000;
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 30, 30]);
    expect(endpoint.requests).toHaveLength(7);
    expect(Logger.prototype.warn).toHaveBeenCalledTimes(1);
  });

  it('answers "unavailable" for an unknown kid whose refresh failed, and keeps serving known keys', async () => {
    await store.get('key-1');
    endpoint.failWith = 'status';
    endpoint.keys = [rsaKey('key-1'), rsaKey('new-key')];
    await expect(store.get('new-key')).rejects.toBeInstanceOf(IdentityProviderUnavailableError);
    await expect(store.get('key-1')).resolves.toEqual(rsaKey('key-1'));
    // The failure started no cooldown: once the backoff passes, the new kid is looked up again.
    endpoint.failWith = undefined;
    nowMs += FIRST_RETRY_MS;
    await expect(store.get('new-key')).resolves.toEqual(rsaKey('new-key'));
  });

  it('finds a key rotated in right after start-up at once: the start-up fetch starts no cooldown', async () => {
    await store.get('key-1');
    endpoint.keys = [rsaKey('key-1'), rsaKey('key-2'), rsaKey('new-key')];
    await expect(store.get('new-key')).resolves.toEqual(rsaKey('new-key'));
    expect(endpoint.requests).toHaveLength(2);
  });

  it('finds a key rotated in right after a periodic refresh at once', async () => {
    await store.get('key-1');
    nowMs += REFRESH_INTERVAL_MS;
    await store.refresh();
    endpoint.keys = [rsaKey('key-1'), rsaKey('new-key')];
    await expect(store.get('new-key')).resolves.toEqual(rsaKey('new-key'));
    expect(endpoint.requests).toHaveLength(3);
  });

  it('never makes a caller with a known key wait for a refresh, even when the endpoint hangs', async () => {
    await store.get('key-1');
    nowMs += REFRESH_INTERVAL_MS;
    endpoint.hold();
    // Resolves while the periodic fetch it started is still held: a wait would never end (until Jest's timeout).
    await expect(store.get('key-1')).resolves.toEqual(rsaKey('key-1'));
    expect(store.isStale).toBe(true);
    endpoint.release();
    await store.refresh();
    expect(store.isStale).toBe(false);
  }, 5_000);

  it('passes on a configuration error of discovery (an unknown tenant) instead of "unavailable"', async () => {
    const misconfigured = new SigningKeyStore({
      jwksUri: async () => {
        throw new ClientConfigurationError('The configured tenant is not known to the identity provider.', { error: 'invalid_tenant' });
      },
      fetch: endpoint.fetch,
      nowMs: () => nowMs,
      timeoutMs: 1_000,
      refreshIntervalMs: REFRESH_INTERVAL_MS,
      unknownKidCooldownMs: COOLDOWN_MS,
    });
    await expect(misconfigured.get('key-1')).rejects.toBeInstanceOf(ClientConfigurationError);
    await expect(misconfigured.get('key-1')).rejects.toBeInstanceOf(ClientConfigurationError);
    expect(endpoint.requests).toHaveLength(0);
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

  describe('status and loadIfMissing (health probes)', () => {
    it('reports nothing loaded, then the key ids and fetch time, without fetching to report', async () => {
      expect(store.status).toEqual({ keyIds: [], fetchedAtMs: undefined, stale: true, lastError: undefined, retryAfterSec: undefined });
      expect(endpoint.requests).toHaveLength(0);
      await store.loadIfMissing();
      expect(store.status).toEqual({ keyIds: ['key-1', 'key-2'], fetchedAtMs: START_MS, stale: false, lastError: undefined, retryAfterSec: undefined });
      await store.loadIfMissing();
      expect(endpoint.requests).toHaveLength(1);
    });

    it('with nothing loaded, fetches at most once per backoff period however often it is asked', async () => {
      endpoint.failWith = 'status';
      await store.loadIfMissing();
      await store.loadIfMissing();
      await store.loadIfMissing();
      expect(endpoint.requests).toHaveLength(1);
      expect(store.status).toMatchObject({ keyIds: [], fetchedAtMs: undefined, lastError: 'HTTP 503', retryAfterSec: 1 });
      nowMs += FIRST_RETRY_MS;
      endpoint.failWith = undefined;
      await store.loadIfMissing();
      expect(endpoint.requests).toHaveLength(2);
      expect(store.status).toMatchObject({ keyIds: ['key-1', 'key-2'], lastError: undefined, retryAfterSec: undefined });
    });

    it('joins a fetch under way instead of starting another', async () => {
      endpoint.hold();
      const first = store.refresh();
      const probe = store.loadIfMissing();
      endpoint.release();
      await Promise.all([first, probe]);
      expect(endpoint.requests).toHaveLength(1);
      expect(store.status.keyIds).toEqual(['key-1', 'key-2']);
    });

    it('keeps the last good keys when a refresh fails, and says why; a due refresh starts in the background', async () => {
      await store.loadIfMissing();
      nowMs += REFRESH_INTERVAL_MS;
      expect(store.status.stale).toBe(true);
      endpoint.failWith = 'network';
      endpoint.hold();
      await store.loadIfMissing(); // returns at once: the refresh runs in the background
      const background = store.refresh(); // joins it
      endpoint.release();
      await background;
      expect(endpoint.requests).toHaveLength(2);
      expect(store.status).toMatchObject({ keyIds: ['key-1', 'key-2'], fetchedAtMs: START_MS, stale: true, lastError: 'fetch failed' });
    });
  });
});
