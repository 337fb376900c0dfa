import { randomUUID } from 'node:crypto';
import { TEST_SCOPE, testPrincipal, testService } from '../../test/support/token-acquisition-fixtures.js';
import { InMemoryTokenCache } from '../cache/in-memory-token-cache.js';
import { OboTokenCache, type CachedToken } from '../cache/obo-token-cache.js';
import type { ExchangedToken } from '../msal/msal-token-exchanger.js';

const exchanger = {
  calls: 0,
  async onBehalfOf(): Promise<ExchangedToken> {
    this.calls += 1;
    return { accessToken: `downstream-${this.calls}`, expiresOnMs: Date.now() + 3_600_000, scopes: [TEST_SCOPE], correlationId: randomUUID() };
  },
};

/** The same store answering through promises, as Redis does. */
class AsyncCache extends OboTokenCache {
  readonly inner = new InMemoryTokenCache();
  async get(key: string): Promise<CachedToken | undefined> {
    return this.inner.get(key);
  }
  async set(key: string, value: CachedToken, cacheUntilMs: number): Promise<void> {
    this.inner.set(key, value, cacheUntilMs);
  }
  async delete(key: string): Promise<void> {
    this.inner.delete(key);
  }
}

describe('TokenAcquisitionService.cachedTokenFor: the synchronous hit path', () => {
  beforeEach(() => (exchanger.calls = 0));

  it('misses before the first exchange, then returns the very entry stored, for the same scopes in any spelling', async () => {
    const service = testService(new InMemoryTokenCache(), exchanger);
    const user = testPrincipal();
    expect(service.cachedTokenFor(user, TEST_SCOPE)).toBeUndefined();
    const acquired = await service.acquireTokenOnBehalfOf(user, TEST_SCOPE);
    const hit = service.cachedTokenFor(user, TEST_SCOPE);
    expect(hit).toMatchObject({ accessToken: acquired.accessToken });
    expect(service.cachedTokenFor(user, [TEST_SCOPE.toUpperCase()])).toBe(hit);
    expect(exchanger.calls).toBe(1);
  });

  it('does not answer for another token of the same user, nor for other scopes', async () => {
    const service = testService(new InMemoryTokenCache(), exchanger);
    await service.acquireTokenOnBehalfOf(testPrincipal({ token: 'first' }), TEST_SCOPE);
    expect(service.cachedTokenFor(testPrincipal({ token: 'second' }), TEST_SCOPE)).toBeUndefined();
    expect(service.cachedTokenFor(testPrincipal({ token: 'first' }), 'api://downstream/Profile.Write')).toBeUndefined();
  });

  it('leaves to the full path a principal the verifier did not build, an app-only caller, and a cache that answers asynchronously', async () => {
    const foreign = testService(new InMemoryTokenCache(), exchanger, {}, {}, { isOwnPrincipal: (() => false) as never });
    const user = testPrincipal();
    expect(foreign.cachedTokenFor(user, TEST_SCOPE)).toBeUndefined();

    const service = testService(new InMemoryTokenCache(), exchanger);
    const app = { ...testPrincipal(), isAppOnly: true };
    expect(service.cachedTokenFor(app, TEST_SCOPE)).toBeUndefined();

    const asyncCache = new AsyncCache();
    const overRedis = testService(asyncCache, exchanger);
    await overRedis.acquireTokenOnBehalfOf(user, TEST_SCOPE);
    expect(asyncCache.inner.size).toBe(1);
    expect(overRedis.cachedTokenFor(user, TEST_SCOPE)).toBeUndefined();
    await expect(overRedis.acquireTokenOnBehalfOf(user, TEST_SCOPE)).resolves.toMatchObject({ fromCache: true });
  });

  it('never answers past the cache: a removed entry is a miss at once, and another module never takes the key', async () => {
    const cache = new InMemoryTokenCache();
    const service = testService(cache, exchanger);
    const user = testPrincipal();
    await service.acquireTokenOnBehalfOf(user, TEST_SCOPE);
    expect(service.cachedTokenFor(user, TEST_SCOPE)).toBeDefined();
    cache.removeUser(user.tid, user.oid);
    expect(service.cachedTokenFor(user, TEST_SCOPE)).toBeUndefined();
    // The same principal, known to one module's service, is still foreign to another module's, sharing the cache.
    await service.acquireTokenOnBehalfOf(user, TEST_SCOPE);
    const other = testService(cache, exchanger, {}, {}, { isOwnPrincipal: (() => false) as never });
    expect(other.cachedTokenFor(user, TEST_SCOPE)).toBeUndefined();
  });

  it('holds the entry it found: a token that replaced it is answered from the next request on, the old one never again', async () => {
    const cache = new InMemoryTokenCache();
    const service = testService(cache, exchanger);
    const user = testPrincipal();
    await service.acquireTokenOnBehalfOf(user, TEST_SCOPE);
    expect(service.cachedTokenFor(user, TEST_SCOPE)?.accessToken).toBe('downstream-1');
    expect(service.heldTokenFor(user, TEST_SCOPE)?.accessToken).toBe('downstream-1');
    // A claims challenge's exchange stores its token under the plain key, replacing the held entry.
    await service.acquireTokenOnBehalfOf(user, TEST_SCOPE, { claims: '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}' });
    expect(service.heldTokenFor(user, TEST_SCOPE)).toBeUndefined();
    expect(service.cachedTokenFor(user, TEST_SCOPE)?.accessToken).toBe('downstream-2');
    expect(service.heldTokenFor(user, TEST_SCOPE)?.accessToken).toBe('downstream-2');
  });

  it('answers each of several scope strings of one principal with its own token', async () => {
    const service = testService(new InMemoryTokenCache(), exchanger);
    const user = testPrincipal();
    const write = 'api://downstream/Profile.Write';
    await service.acquireTokenOnBehalfOf(user, TEST_SCOPE);
    await service.acquireTokenOnBehalfOf(user, write);
    for (let round = 0; round < 3; round += 1) {
      expect(service.cachedTokenFor(user, TEST_SCOPE)?.accessToken).toBe('downstream-1');
      expect(service.cachedTokenFor(user, write)?.accessToken).toBe('downstream-2');
    }
  });

  it('holds nothing for what is not one of its principals: a copy, another object, a string, nothing', async () => {
    const service = testService(new InMemoryTokenCache(), exchanger);
    const user = testPrincipal();
    await service.acquireTokenOnBehalfOf(user, TEST_SCOPE);
    expect(service.cachedTokenFor(user, TEST_SCOPE)).toBeDefined();
    for (const other of [{ ...user }, Object.create(user) as unknown, {}, 'token', undefined, null]) expect(service.heldTokenFor(other, TEST_SCOPE)).toBeUndefined();
  });

  it('asks a cache that overrides get on every hit, never past it', async () => {
    const asked: string[] = [];
    class CountingCache extends InMemoryTokenCache {
      override get(key: string): CachedToken | undefined {
        asked.push(key);
        return super.get(key);
      }
    }
    const service = testService(new CountingCache(), exchanger);
    const user = testPrincipal();
    await service.acquireTokenOnBehalfOf(user, TEST_SCOPE);
    asked.length = 0;
    for (let round = 0; round < 3; round += 1) expect(service.cachedTokenFor(user, TEST_SCOPE)).toBeDefined();
    expect(asked).toHaveLength(3);
    expect(service.heldTokenFor(user, TEST_SCOPE)).toBeUndefined();
  });

  it('refuses scopes that break the rules, as acquireTokenOnBehalfOf does', () => {
    const service = testService(new InMemoryTokenCache(), exchanger);
    expect(() => service.cachedTokenFor(testPrincipal(), ['api://a/Read', 'api://b/Read'])).toThrow(/^acquireTokenOnBehalfOf: scopes of api:\/\/a and api:\/\/b/);
  });
});
