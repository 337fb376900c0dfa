/** Bounds (inclusive) a lifetime is drawn from, uniformly, for each token. */
export interface LifetimeRange {
  minSec: number;
  maxSec: number;
}

/** Lifetimes of what the emulator issues. Access tokens must outlive msal-node's fixed 300 s expiry margin. */
export interface EmulatorTokenLifetimes {
  /**
   * Access tokens: a fixed number of seconds, or a range each token's lifetime is drawn from. Entra's default
   * lifetime is random between 60 and 90 minutes, so the default is `{ minSec: 3600, maxSec: 5400 }`. A token that
   * lives longer than two hours is answered with `refresh_in`, as Entra answers long-lived tokens.
   */
  accessTokenSec: number | LifetimeRange;
  /**
   * The part of a long-lived access token's life that its response's `refresh_in` gives (default 0.5: half, the value
   * MSAL computes when a source sends none). Above 0 and below 1; another value lets a test tell renewal at
   * `refresh_in` apart from a client's own half-life default.
   */
  refreshInFraction: number;
  /** How much longer than `expires_in` the reported `ext_expires_in` is (Entra's resilience extension). */
  accessTokenExtensionSec: number;
  idTokenSec: number;
  /**
   * Refresh tokens of web apps, public clients and On-Behalf-Of (90 days in Entra): each one redeemed brings a new one
   * with a fresh lifetime, so this is an inactivity limit.
   */
  refreshTokenSec: number;
  /**
   * Refresh tokens of single-page apps (24 hours in Entra): fixed from the sign-in, the ones a refresh brings keep the
   * first one's end.
   */
  spaRefreshTokenSec: number;
  authorizationCodeSec: number;
}

const DAY_SEC = 24 * 3600;

/**
 * Entra's defaults (https://learn.microsoft.com/entra/identity-platform/access-tokens: access tokens live a random
 * 60-90 minutes; https://learn.microsoft.com/entra/identity-platform/refresh-tokens: refresh tokens 24 hours for
 * single-page apps and 90 days for all other scenarios).
 */
export const DEFAULT_TOKEN_LIFETIMES: EmulatorTokenLifetimes = {
  accessTokenSec: { minSec: 3600, maxSec: 5400 },
  refreshInFraction: 0.5,
  accessTokenExtensionSec: 3600,
  idTokenSec: 3600,
  refreshTokenSec: 90 * DAY_SEC,
  spaRefreshTokenSec: DAY_SEC,
  authorizationCodeSec: 600,
};

/** Problems with a `tokenLifetimes` option, one sentence each. */
export function lifetimeProblems(lifetimes: EmulatorTokenLifetimes): string[] {
  const problems: string[] = [];
  const positive = (name: string, value: unknown) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) problems.push(`tokenLifetimes.${name} must be a positive integer of seconds, got ${String(value)}`);
  };
  const { accessTokenSec, accessTokenExtensionSec, refreshInFraction, ...rest } = lifetimes;
  if (typeof refreshInFraction !== 'number' || !(refreshInFraction > 0 && refreshInFraction < 1)) {
    problems.push(`tokenLifetimes.refreshInFraction must be a number above 0 and below 1, got ${String(refreshInFraction)}`);
  }
  if (typeof accessTokenSec === 'object' && accessTokenSec !== null) {
    positive('accessTokenSec.minSec', accessTokenSec.minSec);
    positive('accessTokenSec.maxSec', accessTokenSec.maxSec);
    if (accessTokenSec.maxSec < accessTokenSec.minSec) problems.push('tokenLifetimes.accessTokenSec.maxSec must not be below minSec');
  } else {
    positive('accessTokenSec', accessTokenSec);
  }
  if (!Number.isInteger(accessTokenExtensionSec) || accessTokenExtensionSec < 0) {
    problems.push(`tokenLifetimes.accessTokenExtensionSec must be a non-negative integer of seconds, got ${accessTokenExtensionSec}`);
  }
  for (const [name, value] of Object.entries(rest)) positive(name, value);
  return problems;
}

/** Tokens that live longer than this are long-lived: their token response carries `refresh_in`. */
export const LONG_LIVED_TOKEN_SEC = 2 * 3600;

/**
 * `refresh_in` for an access token of `lifetimeSec`: `fraction` of its life (half by default) when it lives longer
 * than two hours, else none. Proactive refresh is an Entra resiliency feature: the token response carries
 * `refresh_in` beside `expires_in` (AzureAD/microsoft-authentication-library-for-js#6085). Microsoft documents no rule
 * for its value other than the one its libraries apply when a source sends none, "compute refresh_in as 1/2 of
 * expires_in, but only if expires_in > 2h": @azure/msal-node dist/client/ManagedIdentitySources/
 * BaseManagedIdentitySource.mjs (`getServerTokenResponse`); MSAL.NET src/client/Microsoft.Identity.Client/OAuth2/
 * MsalTokenResponse.cs (`expiresIn > 2 * 3600`); Azure/azure-sdk-for-net#31469 ("for tokens which have lifetime of
 * less than 2 hours, there are no changes"). MSAL Python counts exactly two hours as long (`expires_in >= 7200`); the
 * emulator follows msal-node, the library this package uses.
 */
export function refreshInSec(lifetimeSec: number, fraction = DEFAULT_TOKEN_LIFETIMES.refreshInFraction): number | undefined {
  return lifetimeSec > LONG_LIVED_TOKEN_SEC ? Math.floor(lifetimeSec * fraction) : undefined;
}

/** The lifetime fields of a token response for an access token: `expires_in`, `ext_expires_in`, and `refresh_in` when it has one. */
export function lifetimeFields(token: { expiresInSec: number; extExpiresInSec: number; refreshInSec?: number | undefined }): { expires_in: number; ext_expires_in: number; refresh_in?: number } {
  return { expires_in: token.expiresInSec, ext_expires_in: token.extExpiresInSec, ...(token.refreshInSec !== undefined ? { refresh_in: token.refreshInSec } : {}) };
}
