import { DEFAULT_TOKEN_LIFETIMES, LONG_LIVED_TOKEN_SEC, lifetimeFields, lifetimeProblems, refreshInSec } from './token-lifetimes.js';

describe('token lifetimes', () => {
  // Entra's defaults: https://learn.microsoft.com/entra/identity-platform/refresh-tokens ("24 hours for single page
  // apps and 90 days for all other scenarios"); access tokens a random 60-90 minutes
  // (https://learn.microsoft.com/entra/identity-platform/access-tokens).
  it("default to Entra's: access 60-90 min, refresh 90 days (24 h for single-page apps)", () => {
    expect(DEFAULT_TOKEN_LIFETIMES).toMatchObject({ accessTokenSec: { minSec: 3600, maxSec: 5400 }, refreshTokenSec: 7_776_000, spaRefreshTokenSec: 86_400 });
    expect(lifetimeProblems(DEFAULT_TOKEN_LIFETIMES)).toEqual([]);
  });

  it('report a bad SPA refresh-token lifetime like any other, and a refresh_in fraction outside (0, 1)', () => {
    expect(lifetimeProblems({ ...DEFAULT_TOKEN_LIFETIMES, spaRefreshTokenSec: 0 })).toEqual(['tokenLifetimes.spaRefreshTokenSec must be a positive integer of seconds, got 0']);
    expect(lifetimeProblems({ ...DEFAULT_TOKEN_LIFETIMES, refreshInFraction: 1 })).toEqual(['tokenLifetimes.refreshInFraction must be a number above 0 and below 1, got 1']);
    expect(lifetimeProblems({ ...DEFAULT_TOKEN_LIFETIMES, refreshInFraction: 0 })).toHaveLength(1);
    expect(lifetimeProblems({ ...DEFAULT_TOKEN_LIFETIMES, refreshInFraction: 0.25 })).toEqual([]);
  });

  // msal-node computes refresh_in "as 1/2 of expires_in, but only if expires_in > 2h" when a source sends none
  // (@azure/msal-node dist/client/ManagedIdentitySources/BaseManagedIdentitySource.mjs), as MSAL.NET does
  // (OAuth2/MsalTokenResponse.cs, `expiresIn > 2 * 3600`): the emulator sends what they would compute.
  describe('refresh_in', () => {
    it('is half the life of a token that lives longer than two hours', () => {
      expect(refreshInSec(LONG_LIVED_TOKEN_SEC + 1)).toBe(3600);
      expect(refreshInSec(86_400)).toBe(43_200);
      expect(refreshInSec(86_399)).toBe(43_199);
    });

    it('is the configured fraction of the life when one is given', () => {
      expect(refreshInSec(28_800, 0.25)).toBe(7200);
    });

    it('is absent for a token of two hours or less', () => {
      expect(refreshInSec(LONG_LIVED_TOKEN_SEC)).toBeUndefined();
      expect(refreshInSec(5400)).toBeUndefined();
    });

    it('joins expires_in and ext_expires_in in the response fields of a token that has one', () => {
      expect(lifetimeFields({ expiresInSec: 28 * 3600, extExpiresInSec: 29 * 3600, refreshInSec: 50_400 })).toEqual({ expires_in: 100_800, ext_expires_in: 104_400, refresh_in: 50_400 });
      expect(lifetimeFields({ expiresInSec: 3600, extExpiresInSec: 7200 })).toEqual({ expires_in: 3600, ext_expires_in: 7200 });
    });
  });
});
