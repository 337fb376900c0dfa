import { setTimeout as sleep } from 'node:timers/promises';
import type { CachedToken, OboTokenCache } from '../cache/obo-token-cache.js';

/** A fresh cache under test, with what the contract needs to know about it. */
export interface CacheContractSubject {
  cache: OboTokenCache;
  /** The clock the cache judges expiry by (default `Date.now`). */
  nowMs?: () => number;
  /**
   * Moves that clock forward. Given, the expiry case advances it instead of sleeping; left out, the case waits in
   * real time (for a backend whose own clock, e.g. Redis's TTL, is what expires entries).
   */
  advanceMs?: (ms: number) => void;
  /**
   * For a backend whose storage others can write to: copies what it stores for its entries (not its own bookkeeping)
   * and returns a function that writes those copies back, as someone with write access to the store would. Given,
   * the contract checks that `removeUser` makes a user's written-back values unusable.
   */
  captureStoredEntries?: () => Promise<() => Promise<void>>;
  /** Called after each case (close connections, flush a test namespace). */
  cleanup?: () => Promise<void> | void;
}

/** One case of the contract: `run()` throws an Error saying what broke. */
export interface CacheContractCase {
  name: string;
  run: () => Promise<void>;
}

class ContractViolation extends Error {
  constructor(message: string) {
    super(`OboTokenCache contract: ${message}`);
  }
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new ContractViolation(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

function token(name: string, overrides: Partial<CachedToken> = {}): CachedToken {
  return { accessToken: `access-token-${name}`, expiresOnMs: Date.now() + 3_600_000, scopes: ['api://contract/Read', 'api://contract/Write'], tenantId: 'tenant-a', userObjectId: `user-${name}`, ...overrides };
}

/**
 * The contract every `OboTokenCache` must keep: the in-memory cache, the Redis cache, and yours. Runner-agnostic:
 * each case is an async function that throws on failure. `registerOboTokenCacheContract` wires them into Jest or
 * Vitest (`describe`/`it`); with node:test, loop over the cases with `test(name, run)`.
 */
export function oboTokenCacheContract(createSubject: () => Promise<CacheContractSubject> | CacheContractSubject): CacheContractCase[] {
  const withSubject = (body: (subject: CacheContractSubject, now: () => number) => Promise<void>) => async () => {
    const subject = await createSubject();
    try {
      await body(subject, subject.nowMs ?? Date.now);
    } finally {
      await subject.cleanup?.();
    }
  };
  return [
    {
      name: 'answers undefined for a key never set',
      run: withSubject(async ({ cache }) => expectEqual(await cache.get('contract:absent'), undefined, 'get of an absent key')),
    },
    {
      name: 'returns what was set, field for field',
      run: withSubject(async ({ cache }, now) => {
        const value = token('roundtrip');
        await cache.set('contract:roundtrip', value, now() + 60_000);
        expectEqual(await cache.get('contract:roundtrip'), value, 'get after set');
        const appToken = token('app', { userObjectId: undefined });
        delete appToken.userObjectId;
        await cache.set('contract:app', appToken, now() + 60_000);
        expectEqual(await cache.get('contract:app'), appToken, 'an app token (no user)');
      }),
    },
    {
      name: 'overwrites an entry set again under the same key',
      run: withSubject(async ({ cache }, now) => {
        await cache.set('contract:overwrite', token('first'), now() + 60_000);
        await cache.set('contract:overwrite', token('second'), now() + 60_000);
        expectEqual((await cache.get('contract:overwrite'))?.accessToken, 'access-token-second', 'the second value');
      }),
    },
    {
      name: 'forgets a deleted entry, and deleting an absent key is harmless',
      run: withSubject(async ({ cache }, now) => {
        await cache.set('contract:delete', token('delete'), now() + 60_000);
        await cache.delete('contract:delete');
        await cache.delete('contract:never-there');
        expectEqual(await cache.get('contract:delete'), undefined, 'get after delete');
      }),
    },
    {
      name: 'stores nothing whose expiry has passed, and stops returning an entry once it expires',
      run: withSubject(async ({ cache, advanceMs }, now) => {
        await cache.set('contract:past', token('past'), now() - 1);
        expectEqual(await cache.get('contract:past'), undefined, 'an entry set already expired');
        await cache.set('contract:short', token('short'), now() + 200);
        if (!(await cache.get('contract:short'))) throw new ContractViolation('an entry expiring in 200 ms was not returned at once');
        if (advanceMs) advanceMs(200);
        else await sleep(400);
        expectEqual(await cache.get('contract:short'), undefined, 'an entry at its expiry');
      }),
    },
    {
      name: 'keeps keys apart, whatever characters they contain',
      run: withSubject(async ({ cache }, now) => {
        const keys = ['obo|t|api://a/x|hash+/=', 'obo|t|api://a/x|hash+/= ', 'app|t|api://b/.default', 'ünïcødé|key'];
        for (const [index, key] of keys.entries()) await cache.set(key, token(`k${index}`), now() + 60_000);
        for (const [index, key] of keys.entries()) expectEqual((await cache.get(key))?.accessToken, `access-token-k${index}`, `key ${JSON.stringify(key)}`);
      }),
    },
    {
      name: 'serves concurrent writes and reads of many keys',
      run: withSubject(async ({ cache }, now) => {
        const keys = Array.from({ length: 50 }, (_, index) => `contract:concurrent:${index}`);
        await Promise.all(keys.map((key, index) => cache.set(key, token(String(index)), now() + 60_000)));
        const values = await Promise.all(keys.map((key) => cache.get(key)));
        values.forEach((value, index) => expectEqual(value?.accessToken, `access-token-${index}`, `concurrent key ${index}`));
      }),
    },
    {
      name: 'removeUser (when offered) evicts that user in that tenant, and nobody else',
      run: withSubject(async ({ cache }, now) => {
        if (!cache.removeUser) return;
        await cache.set('contract:alice:1', token('alice', { userObjectId: 'alice' }), now() + 60_000);
        await cache.set('contract:alice:2', token('alice2', { userObjectId: 'alice' }), now() + 60_000);
        await cache.set('contract:alice:other-tenant', token('alice3', { userObjectId: 'alice', tenantId: 'tenant-b' }), now() + 60_000);
        await cache.set('contract:bob', token('bob', { userObjectId: 'bob' }), now() + 60_000);
        const appToken = token('app');
        delete appToken.userObjectId;
        await cache.set('contract:app', appToken, now() + 60_000);
        await cache.removeUser('tenant-a', 'alice');
        expectEqual(await cache.get('contract:alice:1'), undefined, "alice's first entry");
        expectEqual(await cache.get('contract:alice:2'), undefined, "alice's second entry");
        if (!(await cache.get('contract:alice:other-tenant'))) throw new ContractViolation('removeUser evicted the same oid in another tenant');
        if (!(await cache.get('contract:bob'))) throw new ContractViolation("removeUser evicted another user's entry");
        if (!(await cache.get('contract:app'))) throw new ContractViolation('removeUser evicted an app token');
      }),
    },
    {
      name: 'removeUser (when offered) matches tenant and object ids case-insensitively (they are GUIDs)',
      run: withSubject(async ({ cache }, now) => {
        if (!cache.removeUser) return;
        const tenant = '08CA7782-AB9B-4297-96FE-A80D943EE9F4';
        const user = 'D09FDCC1-D26E-48E6-BAA5-5305C1DCBF61';
        await cache.set('contract:upper', token('upper', { tenantId: tenant, userObjectId: user }), now() + 60_000);
        await cache.set('contract:lower', token('lower', { tenantId: tenant.toLowerCase(), userObjectId: user.toLowerCase() }), now() + 60_000);
        await cache.removeUser(tenant.toLowerCase(), user);
        expectEqual(await cache.get('contract:upper'), undefined, 'an entry stored with upper-case ids');
        expectEqual(await cache.get('contract:lower'), undefined, 'an entry stored with lower-case ids');
      }),
    },
    {
      name: "removeUser (when offered) leaves a user's stored values unusable even when they are written back",
      run: withSubject(async ({ cache, captureStoredEntries }, now) => {
        if (!cache.removeUser || !captureStoredEntries) return;
        await cache.set('contract:revoked', token('revoked', { userObjectId: 'revoked' }), now() + 60_000);
        await cache.set('contract:kept', token('kept', { userObjectId: 'kept' }), now() + 60_000);
        const writeBack = await captureStoredEntries();
        await cache.removeUser('tenant-a', 'revoked');
        await writeBack();
        expectEqual(await cache.get('contract:revoked'), undefined, "a removed user's value written back");
        if (!(await cache.get('contract:kept'))) throw new ContractViolation("another user's value written back no longer reads");
        await cache.set('contract:revoked', token('again', { userObjectId: 'revoked' }), now() + 60_000);
        expectEqual((await cache.get('contract:revoked'))?.accessToken, 'access-token-again', 'a new entry of the removed user');
      }),
    },
    {
      name: 'tryLock (when offered) is exclusive until released',
      run: withSubject(async ({ cache }) => {
        if (!cache.tryLock) return;
        const first = await cache.tryLock('contract:lock', 5_000);
        if (!first) throw new ContractViolation('tryLock on a free key returned no lock');
        if (await cache.tryLock('contract:lock', 5_000)) throw new ContractViolation('tryLock granted a lock that is held');
        await first.release();
        await first.release();
        const again = await cache.tryLock('contract:lock', 5_000);
        if (!again) throw new ContractViolation('tryLock after release returned no lock');
        await again.release();
      }),
    },
  ];
}

/** Registers the contract's cases with a Jest- or Vitest-style `describe` and `it`. */
export function registerOboTokenCacheContract(
  title: string,
  createSubject: () => Promise<CacheContractSubject> | CacheContractSubject,
  runner: { describe: (name: string, body: () => void) => void; it: (name: string, body: () => Promise<void>) => void },
): void {
  runner.describe(`${title} keeps the OboTokenCache contract`, () => {
    for (const contractCase of oboTokenCacheContract(createSubject)) runner.it(contractCase.name, contractCase.run);
  });
}
