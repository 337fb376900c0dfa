import type { AccessTokenVerifier } from '../auth/access-token-verifier.js';
import { attachAccessToken, type EntraPrincipal } from '../auth/entra-principal.js';
import { InMemoryTokenCache } from '../cache/in-memory-token-cache.js';
import type { CacheLock, CachedToken } from '../cache/obo-token-cache.js';
import { SYSTEM_CLOCK, type ResolvedOboOptions } from '../config/resolve-options.js';
import type { AuthorityMetadataClient } from '../discovery/authority-metadata.js';
import type { ExchangedToken, MsalTokenExchanger } from './msal-token-exchanger.js';
import { TokenAcquisitionService } from './token-acquisition.service.js';

const TENANT = '08ca7782-ab9b-4297-96fe-a80d943ee9f4';
const SCOPE = 'api://downstream/Profile.Read';

/**
 * A shared cache whose lock is played by the test: `onTryLock` answers each attempt (the attempt's number, the key and
 * TTL asked for), as another instance holding, storing and releasing would make it answer.
 */
class ScriptedLockCache extends InMemoryTokenCache {
  readonly ttlsAskedMs: number[] = [];
  released = 0;
  onTryLock: (attempt: number, key: string) => boolean = () => true;

  override async tryLock(key: string, ttlMs: number): Promise<CacheLock | undefined> {
    this.ttlsAskedMs.push(ttlMs);
    if (!this.onTryLock(this.ttlsAskedMs.length, key)) return undefined;
    return { release: async () => void (this.released += 1) };
  }
}

class CountingExchanger {
  calls = 0;

  async onBehalfOf(): Promise<ExchangedToken> {
    this.calls += 1;
    return { accessToken: 'exchanged-here', expiresOnMs: Date.now() + 3_600_000, scopes: [SCOPE] };
  }
}

function principal(): EntraPrincipal {
  const user: EntraPrincipal = {
    oid: 'd09fdcc1-d26e-48e6-baa5-5305c1dcbf61',
    tid: TENANT,
    sub: 'subject',
    name: undefined,
    username: undefined,
    scopes: ['access_as_user'],
    roles: [],
    clientId: 'web-app',
    isAppOnly: false,
    isGuest: false,
    claims: {},
  };
  attachAccessToken(user, { token: 'incoming-token', hash: 'incoming-token-hash', expiresAtMs: Date.now() + 3_600_000 });
  return user;
}

function service(cache: ScriptedLockCache, exchanger: CountingExchanger, timing: { timeoutMs: number; retries: number }) {
  const options = { ...timing, deadlineMs: 15_000, refreshMarginSec: 0, clock: SYSTEM_CLOCK, isMultiTenant: false, tenantId: TENANT, clientId: 'api', authorityHost: 'https://login.microsoftonline.com' } as ResolvedOboOptions;
  return new TokenAcquisitionService(options, {} as AccessTokenVerifier, exchanger as unknown as MsalTokenExchanger, cache, {} as AuthorityMetadataClient);
}

function otherInstancesToken(): CachedToken {
  return { accessToken: 'from-the-other-instance', expiresOnMs: Date.now() + 3_600_000, scopes: [SCOPE], tenantId: TENANT };
}

describe('TokenAcquisitionService and the cross-instance lock', () => {
  it('reads the cache again after taking the lock: a waiter that takes the lock the winner just freed does not exchange', async () => {
    const cache = new ScriptedLockCache();
    const exchanger = new CountingExchanger();
    cache.onTryLock = (attempt, key) => {
      if (attempt === 1) return false;
      // Between this instance's last read and its next attempt, the winner stored its token and released the lock.
      cache.set(key, otherInstancesToken(), Date.now() + 3_600_000);
      return true;
    };
    const result = await service(cache, exchanger, { timeoutMs: 10_000, retries: 2 }).acquireTokenOnBehalfOf(principal(), SCOPE);
    expect(result).toMatchObject({ accessToken: 'from-the-other-instance', fromCache: true });
    expect(exchanger.calls).toBe(0);
    // The lock it took for nothing is given back at once.
    expect(cache.released).toBe(1);
  });

  it('bounds the lock, and so any wait for it, by one attempt plus a margin, however many retries are configured', async () => {
    const cache = new ScriptedLockCache();
    const exchanger = new CountingExchanger();
    await service(cache, exchanger, { timeoutMs: 2_000, retries: 5 }).acquireTokenOnBehalfOf(principal(), SCOPE);
    expect(exchanger.calls).toBe(1);
    expect(cache.released).toBe(1);
    // A planted or abandoned lock costs a waiter about one exchange, not (retries + 1) x timeoutMs.
    expect(cache.ttlsAskedMs).toEqual([3_000]);
  });
});
