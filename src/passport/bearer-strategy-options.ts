import { audiencesRule, clientIdRule, clockToleranceRule, MAX_CLOCK_TOLERANCE_SEC, tenantRule } from '../config/option-rules.js';
import { SYSTEM_CLOCK, type VerifierSettings } from '../config/resolve-options.js';
import { GUID_PATTERN } from '../util/ids.js';
import { Problems, type OptionNameTable } from '../util/problems.js';
import type { OboClock } from '../config/obo-module-options.js';

/**
 * passport-azure-ad's `BearerStrategy` options, under their own names, so a migration is a change of import. Options
 * of passport-azure-ad that concern logging are accepted where harmless; `null` is "not given", as there (see README).
 */
export interface BearerStrategyOptions {
  /** `https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration` (or the v1 form). */
  identityMetadata: string;
  clientID: string;
  /** Accepted audiences; default the client id, `api://{clientID}` and `spn:{clientID}`. */
  audience?: string | string[] | null;
  /** Default true. With a `common`/`organizations` metadata URL, false accepts every tenant. */
  validateIssuer?: boolean | null;
  /**
   * Accepted issuers, compared exactly with the token's `iss` (as passport-azure-ad does). With a common/organizations
   * metadata URL their tenant ids are also the allowed tenants.
   */
  issuer?: string | string[] | null;
  /** The token must carry one of these delegated scopes (`scp`). */
  scope?: string[] | null;
  /** Allowed clock skew in seconds (passport-azure-ad's default, 300, is also the most accepted). */
  clockSkew?: number | null;
  /** Call `verify(req, token, done)` instead of `verify(token, done)`. */
  passReqToCallback?: boolean | null;
  /** Accepted for compatibility: this library never logs personal data or tokens. */
  loggingNoPII?: boolean | null;
  /** Accepted for compatibility: logging goes through NestJS's Logger. */
  loggingLevel?: 'info' | 'warn' | 'error' | null;
  /** Accepted for compatibility; B2C is not supported (`true` is refused). */
  isB2C?: boolean | null;
  /**
   * Default false, as in passport-azure-ad: a token whose `aud` is an array of several audiences is refused. With
   * true it is accepted when one audience is ours and `azp` is this client.
   */
  allowMultiAudiencesInToken?: boolean | null;
  /** Refused when true: an expired token is never accepted (replay a recorded token on `clock` instead). */
  ignoreExpiration?: false | null;
  /** Refused: it names an Azure AD B2C policy, and B2C is not supported. */
  policyName?: null;
  /** Not in passport-azure-ad: the `fetch` for discovery and keys (a proxy, or the emulator's pinned fetch). */
  fetch?: typeof fetch;
  /** Not in passport-azure-ad: a clock, for tests (and for replaying recorded tokens). */
  clock?: OboClock;
  /** Not in passport-azure-ad: accept B2B guests (default true). */
  allowGuests?: boolean;
}

/** Every option's name, checked against `BearerStrategyOptions` by the compiler. */
const OPTION_NAMES: OptionNameTable<BearerStrategyOptions> = {
  identityMetadata: true, clientID: true, audience: true, validateIssuer: true, issuer: true, scope: true, clockSkew: true, passReqToCallback: true,
  loggingNoPII: true, loggingLevel: true, isB2C: true, allowMultiAudiencesInToken: true, ignoreExpiration: true, policyName: true, fetch: true, clock: true,
  allowGuests: true,
};
/** A GUID inside a longer text (an issuer URL). */
const GUID_IN_TEXT = new RegExp(GUID_PATTERN.source.slice(1, -1), 'i');
/** passport-azure-ad's `CONSTANTS.CLOCK_SKEW` (lib/constants.js): five minutes. */
const DEFAULT_CLOCK_SKEW_SEC = 300;

/** passport-azure-ad read `null` as "not given" (`if (!options.audience)`, `if (!options.clockSkew)`); so do we. */
function withoutNulls(options: BearerStrategyOptions): BearerStrategyOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== null)) as BearerStrategyOptions;
}

/** What the strategy enforces itself, on top of the shared verifier's checks. */
export interface StrategyChecks {
  requiredScopes: string[];
  passReqToCallback: boolean;
  /** The `issuer` option: when given, `iss` must be one of these exactly. */
  acceptedIssuers: readonly string[] | undefined;
  allowMultipleAudiences: boolean;
  clientId: string;
}

/** Where `identityMetadata` points: the authority host and the tenant segment, as the module's options name them. */
function metadataLocation(value: unknown, problems: Problems): { authorityHost: string; tenant: string } {
  try {
    const url = new URL(value as string);
    const segments = url.pathname.split('/').filter(Boolean);
    if (url.protocol !== 'https:') problems.add('identityMetadata must be an https: URL');
    if (!url.pathname.endsWith('/.well-known/openid-configuration') || segments.length < 3) {
      problems.add('identityMetadata must be https://{host}/{tenant}/v2.0/.well-known/openid-configuration (or the v1 form)');
    }
    return { authorityHost: url.origin, tenant: segments[0] ?? '' };
  } catch {
    problems.add("identityMetadata must be the URL of the tenant's OpenID configuration");
    return { authorityHost: '', tenant: '' };
  }
}

/**
 * passport-azure-ad's `issuer` and `validateIssuer`, as the module's allowed tenants: a tenant-specific metadata URL
 * accepts its tenant; a `common`/`organizations` one accepts the issuers' tenants, or any tenant with
 * `validateIssuer: false`.
 */
function allowedTenantsOf(tenant: string, isMultiTenant: boolean, issuers: unknown[], validateIssuer: boolean, problems: Problems): ReadonlySet<string> | 'any' {
  const tenantOf = (issuer: unknown) => (typeof issuer === 'string' ? GUID_IN_TEXT.exec(issuer)?.[0]?.toLowerCase() : undefined);
  if (!isMultiTenant) {
    // Tokens of a tenant-specific metadata URL come from that tenant: an issuer of another tenant would refuse them all.
    const foreign = GUID_PATTERN.test(tenant) ? issuers.filter((issuer) => typeof issuer === 'string' && tenantOf(issuer) !== tenant) : [];
    if (foreign.length > 0) problems.add(`issuer: ${foreign.join(', ')} is not an issuer of tenant ${tenant}, the tenant of identityMetadata`);
    if (!validateIssuer) problems.add('validateIssuer: false is only meaningful with a common/organizations identityMetadata; a single-tenant API always validates its issuer');
    return new Set(GUID_PATTERN.test(tenant) ? [tenant] : []);
  }
  const tenants = issuers.map(tenantOf);
  if (tenants.some((value) => value === undefined)) problems.add('issuer: every issuer must contain its tenant id');
  if (issuers.length > 0) return new Set(tenants.filter((value): value is string => value !== undefined));
  if (!validateIssuer) return 'any';
  problems.add(`with a '${tenant}' identityMetadata, give issuer (the accepted tenants' issuers) or validateIssuer: false (a request may still name its tenant: the tenantIdOrName authenticate option)`);
  return new Set();
}

/**
 * Maps passport-azure-ad's options onto the verifier's settings with the module's own rules (tenant, client id,
 * audiences, clock tolerance), reporting every problem at once. `null` means "not given", as it did there.
 */
export function verifierSettingsFromBearerOptions(input: BearerStrategyOptions): { settings: VerifierSettings } & StrategyChecks {
  const problems = new Problems('BearerStrategy options');
  if (typeof input !== 'object' || input === null) {
    problems.add('options must be an object');
    problems.throwIfAny();
  }
  const options = withoutNulls(input);
  // passport-azure-ad ignored unknown names; its own end-to-end test put the authenticate option here by mistake.
  if ('tenantIdOrName' in input) problems.add("tenantIdOrName is an authenticate option, not a strategy option: pass it per request (passport.authenticate('oauth-bearer', { tenantIdOrName }), or the guard's getAuthenticateOptions)");
  const { tenantIdOrName: _authenticateOption, ...strategyOptions } = input as BearerStrategyOptions & { tenantIdOrName?: unknown };
  problems.unknownOptions(strategyOptions, OPTION_NAMES);

  const { authorityHost, tenant } = metadataLocation(options.identityMetadata, problems);
  const { tenantId, isMultiTenant } = tenantRule(tenant, "identityMetadata's tenant", problems);
  const clientId = clientIdRule(options.clientID, 'clientID', problems);
  // passport-azure-ad's default audiences (lib/bearerstrategy.js): `[options.clientID, "spn:" + options.clientID]`.
  const defaultAudiences = [clientId, `api://${clientId}`, `spn:${clientId}`];
  const audience = options.audience === undefined ? undefined : [options.audience].flat();
  const audiences = audiencesRule(audience, 'audience', defaultAudiences, problems, 'a string or an array of strings');
  if (problems.boolean(options.isB2C, 'isB2C', false)) problems.add('isB2C: Azure AD B2C is not supported by this strategy');
  if (options.policyName !== undefined) problems.add('policyName: it names an Azure AD B2C policy, and B2C is not supported by this strategy');
  if (options.ignoreExpiration !== undefined && options.ignoreExpiration !== false) {
    problems.add('ignoreExpiration: an expired token is never accepted; to replay a recorded token, give a clock (the clock option) set to its lifetime');
  }
  // passport-azure-ad allowed any skew; the module's rule caps it at 300 s, the default there as here.
  const clockSkew = typeof options.clockSkew === 'number' ? Math.min(options.clockSkew, MAX_CLOCK_TOLERANCE_SEC) : options.clockSkew;
  const clockToleranceSec = clockToleranceRule(clockSkew, 'clockSkew', DEFAULT_CLOCK_SKEW_SEC, problems);
  // As passport-azure-ad ("scope must be a non-empty array"): an empty list would require nothing, silently.
  if (options.scope !== undefined && (!Array.isArray(options.scope) || options.scope.length === 0 || options.scope.some((scope) => typeof scope !== 'string' || scope === ''))) {
    problems.add('scope must be a non-empty array of scope names');
  }
  const allowMultipleAudiences = problems.boolean(options.allowMultiAudiencesInToken, 'allowMultiAudiencesInToken', false);
  const passReqToCallback = problems.boolean(options.passReqToCallback, 'passReqToCallback', false);
  problems.boolean(options.loggingNoPII, 'loggingNoPII', true);
  problems.oneOf(options.loggingLevel, 'loggingLevel', ['info', 'warn', 'error'], 'warn');
  const allowGuests = problems.boolean(options.allowGuests, 'allowGuests', true);
  const fetchImplementation = problems.func<typeof fetch>(options.fetch, 'fetch', 'a fetch function', globalThis.fetch);
  if (options.clock !== undefined && typeof options.clock?.nowMs !== 'function') problems.add('clock must have a nowMs() method');

  const issuers: unknown[] = options.issuer === undefined || options.issuer === '' ? [] : [options.issuer].flat();
  if (issuers.some((issuer) => typeof issuer !== 'string' || !/^https:\/\/[^\s]+$/.test(issuer))) problems.add('issuer must be an https: issuer URL or an array of them');
  const validateIssuer = problems.boolean(options.validateIssuer, 'validateIssuer', true);
  const allowedTenants = allowedTenantsOf(tenantId, isMultiTenant, issuers, validateIssuer, problems);
  problems.throwIfAny();
  return {
    settings: {
      tenantId,
      isMultiTenant,
      audiences,
      authorityHost,
      allowedTenants,
      clockToleranceSec,
      allowGuests,
      fetch: fetchImplementation,
      timeoutMs: 10_000,
      clock: options.clock ?? SYSTEM_CLOCK,
      verifiedTokenCacheSize: 10_000,
    },
    requiredScopes: options.scope ?? [],
    passReqToCallback,
    acceptedIssuers: issuers.length > 0 ? (issuers as string[]) : undefined,
    allowMultipleAudiences,
    clientId,
  };
}
