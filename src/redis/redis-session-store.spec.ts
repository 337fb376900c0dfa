import { randomBytes } from 'node:crypto';
import { IdentityProviderUnavailableError } from '../errors/obo-errors.js';
import type { GuardedRedis } from './guarded-redis.js';
import { RedisKeyNames } from './redis-key-names.js';
import { RedisSessionStore } from './redis-session-store.js';
import { TokenEncryption } from './token-encryption.js';

/** A connection whose every operation fails as GuardedRedis reports it: skipped by the open breaker, or sent and lost. */
function failingRedis(sent: boolean): GuardedRedis {
  return { attempt: async () => ({ ok: false, sent }) } as unknown as GuardedRedis;
}

function storeOver(redis: GuardedRedis): RedisSessionStore {
  const key = randomBytes(32);
  return new RedisSessionStore(
    { redis, names: new RedisKeyNames('test:', key), encryption: new TokenEncryption([key]), clock: { nowMs: () => Date.now() }, removeUser: async () => undefined },
    { idleTimeoutSec: 3600, maxSessions: 10 },
  );
}

describe('RedisSessionStore when Redis does not answer', () => {
  it.each([
    ['the breaker is open', false],
    ['an operation timed out or failed', true],
  ])('is an error the caller can retry when %s, never "no session"', async (_case, sent) => {
    const store = storeOver(failingRedis(sent));
    await expect(store.get('A'.repeat(43))).rejects.toBeInstanceOf(IdentityProviderUnavailableError);
    await expect(store.start('A'.repeat(43), { refreshToken: 'rt', tenantId: 't', userObjectId: 'u' })).rejects.toThrow(/session store \(Redis\) did not answer/);
    await expect(store.delete('A'.repeat(43))).rejects.toMatchObject({ code: 'identity_provider_unavailable', retryAfterSec: 5 });
  });
});

describe('RedisKeyNames for sessions', () => {
  it('names a session by a keyed hash in the sessions hash slot, never by its key', () => {
    const names = new RedisKeyNames('p:', randomBytes(32));
    const sessionKey = randomBytes(32).toString('base64url');
    const name = names.session(sessionKey);
    expect(name).toMatch(/^p:v2:s:\{sessions\}:[A-Za-z0-9_-]{43}$/);
    expect(name).not.toContain(sessionKey);
    expect(names.session(sessionKey)).toBe(name);
    expect(new RedisKeyNames('p:', randomBytes(32)).session(sessionKey)).not.toBe(name);
    expect(names.sessionIndex).toBe('p:v2:s:{sessions}:lru');
  });
});
