import { SYSTEM_CLOCK, type VerifierSettings } from '../config/resolve-options.js';
import type { OboClock } from '../config/obo-module-options.js';
import { OboConfigurationError } from '../errors/obo-errors.js';

/**
 * passport-azure-ad's `BearerStrategy` options, under their own names, so a migration is a change of import. Options
 * of passport-azure-ad that concern B2C, logging levels or its own caching are accepted where harmless (see README).
 */
export interface BearerStrategyOptions {
  /** `https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration` (or the v1 form). */
  identityMetadata: string;
  clientID: string;
  /** Accepted audiences; default the client id and `api://{clientID}`. */
  audience?: string | string[];
  /** Default true. With a `common`/`organizations` metadata URL, false accepts every tenant. */
  validateIssuer?: boolean;
  /**
   * Accepted issuers, compared exactly with the token's `iss` (as passport-azure-ad does). With a common/organizations
   * metadata URL their tenant ids are also the allowed tenants.
   */
  issuer?: string | string[];
  /** The token must carry one of these delegated scopes (`scp`). */
  scope?: string[];
  /** Allowed clock skew in seconds (passport-azure-ad's default was 300; capped at 300). */
  clockSkew?: number;
  /** Call `verify(req, token, done)` instead of `verify(token, done)`. */
  passReqToCallback?: boolean;
  /** Accepted for compatibility: this library never logs personal data or tokens. */
  loggingNoPII?: boolean;
  /** Accepted for compatibility: logging goes through NestJS's Logger. */
  loggingLevel?: 'info' | 'warn' | 'error';
  /** Accepted for compatibility; B2C is not supported (`true` is refused). */
  isB2C?: boolean;
  /**
   * Default false, as in passport-azure-ad: a token whose `aud` is an array of several audiences is refused. With
   * true it is accepted when one audience is ours and `azp` is this client.
   */
  allowMultiAudiencesInToken?: boolean;
  /** Not in passport-azure-ad: the `fetch` for discovery and keys (a proxy, or the emulator's pinned fetch). */
  fetch?: typeof fetch;
  /** Not in passport-azure-ad: a clock, for tests. */
  clock?: OboClock;
  /** Not in passport-azure-ad: accept B2B guests (default true). */
  allowGuests?: boolean;
}

const KNOWN = new Set([
  'identityMetadata', 'clientID', 'audience', 'validateIssuer', 'issuer', 'scope', 'clockSkew', 'passReqToCallback', 'loggingNoPII',
  'loggingLevel', 'isB2C', 'allowMultiAudiencesInToken', 'fetch', 'clock', 'allowGuests',
]);
const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const MULTI_TENANT = new Set(['common', 'organizations']);

/** Maps passport-azure-ad's options onto the verifier's settings, reporting every problem at once. */
/** What the strategy enforces itself, on top of the shared verifier's checks. */
export interface StrategyChecks {
  requiredScopes: string[];
  passReqToCallback: boolean;
  /** The `issuer` option: when given, `iss` must be one of these exactly. */
  acceptedIssuers: readonly string[] | undefined;
  allowMultipleAudiences: boolean;
  clientId: string;
}

export function verifierSettingsFromBearerOptions(options: BearerStrategyOptions): { settings: VerifierSettings } & StrategyChecks {
  const problems: string[] = [];
  for (const name of Object.keys(options ?? {})) if (!KNOWN.has(name)) problems.push(`unknown option '${name}'`);
  let authorityHost = '';
  let tenant = '';
  try {
    const url = new URL(options.identityMetadata);
    const segments = url.pathname.split('/').filter(Boolean);
    if (url.protocol !== 'https:') problems.push('identityMetadata must be an https: URL');
    if (!url.pathname.endsWith('/.well-known/openid-configuration') || segments.length < 3) {
      problems.push('identityMetadata must be https://{host}/{tenant}/v2.0/.well-known/openid-configuration (or the v1 form)');
    }
    authorityHost = url.origin;
    tenant = (segments[0] ?? '').toLowerCase();
  } catch {
    problems.push('identityMetadata must be the URL of the tenant\'s OpenID configuration');
  }
  const clientId = typeof options.clientID === 'string' ? options.clientID.toLowerCase() : '';
  if (!GUID.test(clientId) || clientId.length !== 36) problems.push('clientID must be the application (client) id, a GUID');
  const audiences = options.audience === undefined ? [clientId, `api://${clientId}`] : [options.audience].flat();
  if (audiences.length === 0 || audiences.some((audience) => typeof audience !== 'string' || audience === '')) problems.push('audience must be a string or an array of strings');
  if (options.isB2C === true) problems.push('isB2C: Azure AD B2C is not supported by this strategy');
  if (options.clockSkew !== undefined && (!Number.isInteger(options.clockSkew) || options.clockSkew < 0)) problems.push('clockSkew must be a non-negative integer of seconds');
  if (options.scope !== undefined && (!Array.isArray(options.scope) || options.scope.some((scope) => typeof scope !== 'string'))) problems.push('scope must be an array of scope names');

  if (options.allowMultiAudiencesInToken !== undefined && typeof options.allowMultiAudiencesInToken !== 'boolean') problems.push('allowMultiAudiencesInToken must be a boolean');
  const issuers = options.issuer === undefined ? [] : [options.issuer].flat();
  if (issuers.some((issuer) => typeof issuer !== 'string' || !/^https:\/\/[^\s]+$/.test(issuer))) problems.push('issuer must be an https: issuer URL or an array of them');

  const isMultiTenant = MULTI_TENANT.has(tenant);
  let allowedTenants: ReadonlySet<string> | 'any' = new Set(GUID.test(tenant) ? [tenant] : []);
  if (!isMultiTenant && GUID.test(tenant)) {
    // Tokens of a tenant-specific metadata URL come from that tenant: an issuer of another tenant would refuse them all.
    const foreign = issuers.filter((issuer) => typeof issuer === 'string' && GUID.exec(issuer)?.[0]?.toLowerCase() !== tenant);
    if (foreign.length > 0) problems.push(`issuer: ${foreign.join(', ')} is not an issuer of tenant ${tenant}, the tenant of identityMetadata`);
  }
  if (isMultiTenant) {
    const tenants = issuers.map((issuer) => (typeof issuer === 'string' ? GUID.exec(issuer)?.[0]?.toLowerCase() : undefined));
    if (tenants.some((value) => value === undefined)) problems.push('issuer: every issuer must contain its tenant id');
    if (issuers.length > 0) allowedTenants = new Set(tenants.filter((value): value is string => value !== undefined));
    else if (options.validateIssuer === false) allowedTenants = 'any';
    else problems.push(`with a '${tenant}' identityMetadata, give issuer (the accepted tenants' issuers) or validateIssuer: false`);
  } else if (options.validateIssuer === false) {
    problems.push('validateIssuer: false is only meaningful with a common/organizations identityMetadata; a single-tenant API always validates its issuer');
  }
  if (problems.length > 0) throw new OboConfigurationError(problems);
  return {
    settings: {
      tenantId: tenant,
      isMultiTenant,
      audiences,
      authorityHost,
      allowedTenants,
      clockToleranceSec: Math.min(options.clockSkew ?? 300, 300),
      allowGuests: options.allowGuests ?? true,
      fetch: options.fetch ?? globalThis.fetch,
      timeoutMs: 10_000,
      clock: options.clock ?? SYSTEM_CLOCK,
      verifiedTokenCacheSize: 10_000,
    },
    requiredScopes: options.scope ?? [],
    passReqToCallback: options.passReqToCallback === true,
    acceptedIssuers: issuers.length > 0 ? issuers : undefined,
    allowMultipleAudiences: options.allowMultiAudiencesInToken === true,
    clientId,
  };
}
