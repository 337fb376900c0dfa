import { EmulatorClock } from './clock.js';
import { GrantStore, type AuthorizationCodeRecord, type UserGrant } from './grant-store.js';

const START = new Date(Date.UTC(2030, 0, 1, 12, 0, 0));
const CLIENT_ID = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const TENANT_ID = '11111111-1111-4111-8111-111111111111';
const ALICE = '22222222-2222-4222-8222-222222222222';
const BOB = '33333333-3333-4333-8333-333333333333';

function grantFor(userId: string): UserGrant {
  return { clientId: CLIENT_ID, userId, tenantId: TENANT_ID, amr: ['pwd'], clientCapabilities: ['cp1'], origin: 'sign-in' };
}

function codeRecord(expiresAtMs: number): Omit<AuthorizationCodeRecord, 'redeemed'> {
  return {
    ...grantFor(ALICE),
    redirectUri: 'http://localhost/cb',
    scope: 'openid api://x/read',
    codeChallenge: 'challenge',
    codeChallengeMethod: 'S256',
    nonce: 'nonce-1',
    expiresAtMs,
  };
}

describe('GrantStore', () => {
  let clock: EmulatorClock;
  let grants: GrantStore;

  beforeEach(() => {
    // A frozen clock: expiry is decided by the emulator's time only, never by how long the test took.
    clock = new EmulatorClock();
    clock.freeze(START);
    grants = new GrantStore(clock);
  });

  describe('authorization codes', () => {
    it('are opaque, distinct strings', () => {
      const first = grants.issueCode(codeRecord(START.getTime() + 600_000));
      const second = grants.issueCode(codeRecord(START.getTime() + 600_000));
      expect(first).toMatch(/^1\.[A-Za-z0-9_-]{64}$/);
      expect(second).not.toBe(first);
    });

    it('redeem once to their record, then answer "redeemed"', () => {
      const code = grants.issueCode(codeRecord(START.getTime() + 600_000));
      expect(grants.redeemCode(code)).toEqual({ ...codeRecord(START.getTime() + 600_000), redeemed: true });
      expect(grants.redeemCode(code)).toBe('redeemed');
      expect(grants.redeemCode(code)).toBe('redeemed');
    });

    it('answer "unknown" for a code never issued', () => {
      expect(grants.redeemCode('1.never-issued')).toBe('unknown');
    });

    it('expire with the emulator clock, at their expiry instant', () => {
      const code = grants.issueCode(codeRecord(START.getTime() + 600_000));
      clock.advanceMs(600_000);
      expect(grants.redeemCode(code)).toBe('unknown');
    });

    it('are still good a moment before they expire', () => {
      const code = grants.issueCode(codeRecord(START.getTime() + 600_000));
      clock.advanceMs(599_999);
      expect(grants.redeemCode(code)).toMatchObject({ userId: ALICE, redeemed: true });
    });

    it('hand out a copy of the record, so changing it does not change the stored code', () => {
      const code = grants.issueCode(codeRecord(START.getTime() + 600_000));
      const record = grants.redeemCode(code);
      if (typeof record === 'string') throw new Error(`expected a record, got ${record}`);
      record.redeemed = false;
      expect(grants.redeemCode(code)).toBe('redeemed');
    });
  });

  describe('refresh tokens', () => {
    it('are opaque, distinct strings', () => {
      const first = grants.issueRefreshToken(grantFor(ALICE), 3600);
      expect(first).toMatch(/^1\.[A-Za-z0-9_-]{128}$/);
      expect(grants.issueRefreshToken(grantFor(ALICE), 3600)).not.toBe(first);
    });

    it('redeem to their grant, without the expiry, and stay valid after use (as Entra does)', () => {
      const token = grants.issueRefreshToken(grantFor(ALICE), 3600);
      expect(grants.redeemRefreshToken(token)).toEqual(grantFor(ALICE));
      expect(grants.redeemRefreshToken(token)).toEqual(grantFor(ALICE));
    });

    it('expire after their lifetime on the emulator clock', () => {
      const token = grants.issueRefreshToken(grantFor(ALICE), 3600);
      const other = grants.issueRefreshToken(grantFor(ALICE), 3600);
      clock.advanceSec(3599);
      expect(grants.redeemRefreshToken(token)).toEqual(grantFor(ALICE));
      clock.advanceSec(1);
      expect(grants.redeemRefreshToken(other)).toEqual({ expired: 'inactive', issuedAtMs: START.getTime(), lifetimeMs: 3_600_000 });
    });

    it('give each new token a fresh lifetime (an inactivity limit), while the old one keeps its own end', () => {
      const first = grants.issueRefreshToken(grantFor(ALICE), 3600);
      clock.advanceSec(3000);
      const grant = grants.redeemRefreshToken(first);
      if (typeof grant === 'string' || 'expired' in grant) throw new Error('expected the grant');
      const second = grants.issueRefreshToken(grant, 3600);
      clock.advanceSec(3000);
      expect(grants.redeemRefreshToken(first)).toMatchObject({ expired: 'inactive' });
      expect(grants.redeemRefreshToken(second)).toEqual(grantFor(ALICE));
    });

    // https://learn.microsoft.com/entra/identity-platform/refresh-tokens: "Refresh tokens sent to a redirect URI
    // registered as spa expire after 24 hours. Additional refresh tokens acquired using the initial refresh token
    // carry over that expiration time".
    it("of a single-page app carry the first one's end over to the ones a refresh brings", () => {
      const first = grants.issueRefreshToken({ ...grantFor(ALICE), platform: 'spa' }, 86_400);
      clock.advanceSec(80_000);
      const grant = grants.redeemRefreshToken(first);
      if (typeof grant === 'string' || 'expired' in grant) throw new Error('expected the grant');
      expect(grant.refreshTokensEndAtMs).toBe(START.getTime() + 86_400_000);
      const second = grants.issueRefreshToken(grant, 86_400);
      clock.advanceSec(6_399);
      expect(grants.redeemRefreshToken(second)).toMatchObject({ userId: ALICE, platform: 'spa' });
      clock.advanceSec(1);
      expect(grants.redeemRefreshToken(second)).toEqual({ expired: 'spa-lifetime', issuedAtMs: START.getTime() + 80_000_000, lifetimeMs: 6_400_000 });
    });

    it('keep their origin, so a refresh token born from On-Behalf-Of is judged as On-Behalf-Of was', () => {
      const token = grants.issueRefreshToken({ ...grantFor(ALICE), origin: 'on-behalf-of' }, 3600);
      expect(grants.redeemRefreshToken(token)).toMatchObject({ origin: 'on-behalf-of' });
    });

    it('are still recognised as expired (not unknown) after sweeps, as Entra recognises its own expired tokens', () => {
      const token = grants.issueRefreshToken(grantFor(ALICE), 3600);
      clock.advanceSec(7 * 86_400);
      grants.issueRefreshToken(grantFor(BOB), 3600); // issuing sweeps
      expect(grants.redeemRefreshToken(token)).toMatchObject({ expired: 'inactive' });
    });

    it("answer 'unknown' for a token never issued", () => {
      expect(grants.redeemRefreshToken('1.never-issued')).toBe('unknown');
    });

    it('revokeUser() revokes every token of that user and no one else', () => {
      const aliceWeb = grants.issueRefreshToken(grantFor(ALICE), 3600);
      const aliceOther = grants.issueRefreshToken({ ...grantFor(ALICE), clientId: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb' }, 3600);
      const bobs = grants.issueRefreshToken(grantFor(BOB), 3600);
      grants.revokeUser(ALICE);
      expect(grants.redeemRefreshToken(aliceWeb)).toBe('revoked');
      expect(grants.redeemRefreshToken(aliceOther)).toBe('revoked');
      expect(grants.redeemRefreshToken(bobs)).toEqual(grantFor(BOB));
    });
  });
});
