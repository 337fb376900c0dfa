import { InMemoryLongRunningSessionStore, providesSessionStore, type LongRunningSession } from './long-running-session-store.js';

const TENANT = '08ca7782-ab9b-4297-96fe-a80d943ee9f4';
const session = (userObjectId: string, refreshToken = `rt-${userObjectId}`): LongRunningSession => ({ refreshToken, tenantId: TENANT, userObjectId });

describe('InMemoryLongRunningSessionStore', () => {
  let nowMs = 1_000_000;
  const store = (maxSessions = 10, idleTimeoutSec = 60) => new InMemoryLongRunningSessionStore({ idleTimeoutSec, maxSessions }, () => nowMs);

  it('drops the least recently used session beyond maxSessions; a read counts as a use', async () => {
    const sessions = store(2);
    await sessions.start('a', session('user-a'));
    await sessions.start('b', session('user-b'));
    expect(await sessions.get('a')).toEqual(session('user-a'));
    await sessions.start('c', session('user-c'));
    expect(await sessions.get('b')).toBeUndefined();
    expect(await sessions.get('a')).toBeDefined();
    expect(await sessions.get('c')).toBeDefined();
    expect(sessions.size).toBe(2);
  });

  it('forgets a session idle past the limit; a start or update restarts the count, a read does not', async () => {
    const sessions = store(10, 60);
    await sessions.start('a', session('user-a'));
    await sessions.start('b', session('user-b'));
    nowMs += 50_000;
    await sessions.get('a');
    await sessions.update('b', session('user-b', 'rt-new'));
    nowMs += 20_000;
    expect(await sessions.get('a')).toBeUndefined();
    expect(await sessions.get('b')).toEqual(session('user-b', 'rt-new'));
    nowMs += 60_000;
    expect(await sessions.get('b')).toBeUndefined();
  });

  it('update never brings back a session that was ended or has expired', async () => {
    const sessions = store();
    await sessions.start('a', session('user-a'));
    await sessions.delete('a');
    await sessions.update('a', session('user-a', 'rt-late'));
    expect(await sessions.get('a')).toBeUndefined();
    await sessions.start('b', session('user-b'));
    nowMs += 61_000;
    await sessions.update('b', session('user-b', 'rt-late'));
    expect(await sessions.get('b')).toBeUndefined();
  });

  it("removeUser ends only that user's sessions, whatever the case of the ids", async () => {
    const sessions = store();
    await sessions.start('a1', session('d09fdcc1-d26e-48e6-baa5-5305c1dcbf61'));
    await sessions.start('a2', session('d09fdcc1-d26e-48e6-baa5-5305c1dcbf61'));
    await sessions.start('b', session('another-user'));
    await sessions.removeUser(TENANT.toUpperCase(), 'D09FDCC1-D26E-48E6-BAA5-5305C1DCBF61');
    expect(await sessions.get('a1')).toBeUndefined();
    expect(await sessions.get('a2')).toBeUndefined();
    expect(await sessions.get('b')).toBeDefined();
  });

  it('hands out copies: a caller changing one does not change the store', async () => {
    const sessions = store();
    await sessions.start('a', session('user-a'));
    (await sessions.get('a'))!.refreshToken = 'changed';
    expect((await sessions.get('a'))!.refreshToken).toBe('rt-user-a');
  });
});

describe('providesSessionStore', () => {
  it('recognises a cache with longRunningSessionStore(), and nothing else', () => {
    expect(providesSessionStore({ longRunningSessionStore: () => undefined })).toBe(true);
    expect(providesSessionStore({ get: () => undefined })).toBe(false);
    expect(providesSessionStore(undefined)).toBe(false);
  });
});
