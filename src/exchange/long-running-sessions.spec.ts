import { randomUUID } from 'node:crypto';
import { TEST_SCOPE, TEST_TENANT, testPrincipal, testService } from '../../test/support/token-acquisition-fixtures.js';
import { InMemoryTokenCache } from '../cache/in-memory-token-cache.js';
import { InMemoryLongRunningSessionStore } from '../cache/long-running-session-store.js';
import { InvalidGrantError } from '../errors/obo-errors.js';
import type { ExchangedTokenWithRefresh } from '../msal/msal-token-exchanger.js';
import type { TokenAcquisitionService } from './token-acquisition.service.js';

/** An exchanger that issues numbered tokens and refresh tokens, and records what it was sent. */
class FakeExchanger {
  issued = 0;
  readonly refreshedWith: string[] = [];
  readonly correlationIds: (string | undefined)[] = [];
  /** When set, the next refresh waits for it (a test decides what happens meanwhile). */
  hold: Promise<void> | undefined;
  failRefresh: Error | undefined;

  private next(correlationId: string | undefined): ExchangedTokenWithRefresh {
    this.issued += 1;
    this.correlationIds.push(correlationId);
    return { accessToken: `at-${this.issued}`, refreshToken: `rt-${this.issued}`, expiresOnMs: Date.now() + 3_600_000, scopes: [TEST_SCOPE], correlationId: correlationId ?? randomUUID() };
  }

  async startLongRunning(request: { correlationId?: string }) {
    return this.next(request.correlationId);
  }

  async onBehalfOf(request: { correlationId?: string }) {
    return this.next(request.correlationId);
  }

  async refreshLongRunning(request: { refreshToken: string; correlationId?: string }) {
    this.refreshedWith.push(request.refreshToken);
    await this.hold;
    if (this.failRefresh) throw this.failRefresh;
    return this.next(request.correlationId);
  }
}

function serviceWith(cache: InMemoryTokenCache, sessions: InMemoryLongRunningSessionStore, exchanger: FakeExchanger): TokenAcquisitionService {
  return testService(cache, exchanger as never, {}, {}, undefined, sessions);
}

describe('long-running sessions in TokenAcquisitionService', () => {
  const settings = { idleTimeoutSec: 3600, maxSessions: 2 };
  let exchanger: FakeExchanger;
  beforeEach(() => {
    exchanger = new FakeExchanger();
  });

  it('caches the first token under the session, and refreshes with the refresh token the last refresh returned', async () => {
    const cache = new InMemoryTokenCache();
    const service = serviceWith(cache, new InMemoryLongRunningSessionStore(settings), exchanger);
    const { sessionKey, token } = await service.startLongRunningSession(testPrincipal(), TEST_SCOPE);
    expect(await service.acquireTokenInLongRunningSession(sessionKey, TEST_SCOPE)).toMatchObject({ accessToken: token.accessToken, fromCache: true });
    cache.clear();
    await service.acquireTokenInLongRunningSession(sessionKey, TEST_SCOPE);
    cache.clear();
    await service.acquireTokenInLongRunningSession(sessionKey, TEST_SCOPE);
    expect(exchanger.refreshedWith).toEqual(['rt-1', 'rt-2']);
  });

  it('a full token LRU never evicts a session', async () => {
    const cache = new InMemoryTokenCache({ maxEntries: 1 });
    const service = serviceWith(cache, new InMemoryLongRunningSessionStore(settings), exchanger);
    const first = await service.startLongRunningSession(testPrincipal({ token: 'one' }), TEST_SCOPE);
    await service.startLongRunningSession(testPrincipal({ token: 'two' }), TEST_SCOPE);
    await service.acquireTokenOnBehalfOf(testPrincipal({ token: 'three' }), TEST_SCOPE);
    expect(cache.size).toBe(1);
    // The first session's token was pushed out of the cache, the session was not: it refreshes.
    expect(await service.acquireTokenInLongRunningSession(first.sessionKey, TEST_SCOPE)).toMatchObject({ fromCache: false });
    expect(exchanger.refreshedWith).toEqual(['rt-1']);
  });

  it('more sessions than maxSessions evict the least recently used session, never a token', async () => {
    const cache = new InMemoryTokenCache();
    const service = serviceWith(cache, new InMemoryLongRunningSessionStore(settings), exchanger);
    const plain = await service.acquireTokenOnBehalfOf(testPrincipal({ token: 'plain' }), TEST_SCOPE);
    const keys = [];
    for (const token of ['one', 'two', 'three']) keys.push((await service.startLongRunningSession(testPrincipal({ token }), TEST_SCOPE)).sessionKey);
    await expect(service.acquireTokenInLongRunningSession(keys[0]!, TEST_SCOPE)).rejects.toBeInstanceOf(InvalidGrantError);
    await expect(service.acquireTokenInLongRunningSession(keys[2]!, TEST_SCOPE)).resolves.toMatchObject({ fromCache: true });
    expect(await service.acquireTokenOnBehalfOf(testPrincipal({ token: 'plain' }), TEST_SCOPE)).toMatchObject({ fromCache: true, accessToken: plain.accessToken });
  });

  it('a session ended while its refresh runs stays ended', async () => {
    const cache = new InMemoryTokenCache();
    const sessions = new InMemoryLongRunningSessionStore(settings);
    const service = serviceWith(cache, sessions, exchanger);
    const { sessionKey } = await service.startLongRunningSession(testPrincipal(), TEST_SCOPE);
    cache.clear();
    let release!: () => void;
    exchanger.hold = new Promise((resolve) => (release = resolve));
    const refreshing = service.acquireTokenInLongRunningSession(sessionKey, TEST_SCOPE);
    while (exchanger.refreshedWith.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await service.endLongRunningSession(sessionKey);
    release();
    await refreshing;
    expect(await sessions.get(sessionKey)).toBeUndefined();
    await expect(service.acquireTokenInLongRunningSession(sessionKey, TEST_SCOPE)).rejects.toBeInstanceOf(InvalidGrantError);
  });

  it("sends the caller's correlation id (a GUID) with the start and the refresh; anything else is replaced", async () => {
    const cache = new InMemoryTokenCache();
    const service = serviceWith(cache, new InMemoryLongRunningSessionStore(settings), exchanger);
    const id = randomUUID();
    const { sessionKey, token } = await service.startLongRunningSession(testPrincipal(), TEST_SCOPE, { correlationId: id });
    expect(token.correlationId).toBe(id);
    cache.clear();
    await service.acquireTokenInLongRunningSession(sessionKey, TEST_SCOPE, { correlationId: 'not a guid' });
    expect(exchanger.correlationIds).toEqual([id, undefined]);
  });

  it("words Entra's refusal of the refresh token as the session's, keeping Entra's details", async () => {
    const cache = new InMemoryTokenCache();
    const service = serviceWith(cache, new InMemoryLongRunningSessionStore(settings), exchanger);
    const { sessionKey } = await service.startLongRunningSession(testPrincipal(), TEST_SCOPE);
    cache.clear();
    exchanger.failRefresh = new InvalidGrantError("Entra ID refused the user's token for the exchange (AADSTS50173).", { error: 'invalid_grant', errorCodes: [50173] });
    const refused = (await service.acquireTokenInLongRunningSession(sessionKey, TEST_SCOPE).catch((error: unknown) => error)) as InvalidGrantError;
    expect(refused).toBeInstanceOf(InvalidGrantError);
    expect(refused.message).toMatch(/long-running session's refresh token \(AADSTS50173\)/);
    expect(refused.entra).toEqual({ error: 'invalid_grant', errorCodes: [50173] });
    expect(refused.cause).toBe(exchanger.failRefresh);
    expect(refused.message).not.toContain('rt-1');
  });

  it('ends the sessions of the user removeUser names, and only theirs', async () => {
    const cache = new InMemoryTokenCache();
    const service = serviceWith(cache, new InMemoryLongRunningSessionStore(settings), exchanger);
    const { sessionKey } = await service.startLongRunningSession(testPrincipal(), TEST_SCOPE);
    await service.removeUser(TEST_TENANT, 'someone-else');
    await expect(service.acquireTokenInLongRunningSession(sessionKey, TEST_SCOPE)).resolves.toBeDefined();
    await service.removeUser(TEST_TENANT, testPrincipal().oid);
    await expect(service.acquireTokenInLongRunningSession(sessionKey, TEST_SCOPE)).rejects.toBeInstanceOf(InvalidGrantError);
  });
});
