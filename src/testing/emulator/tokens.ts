import { createHash, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import type { EmulatorClock } from './clock.js';
import { MICROSOFT_GRAPH_APP_ID, type EmulatorApp, type EmulatorUser } from './directory.js';
import { signJwt, signJwtWithHashedNonce, type JwtClaims, type JwtHeader } from './jwt.js';
import type { SigningKeyRing } from './signing-keys.js';
import { refreshInSec, type EmulatorTokenLifetimes } from './token-lifetimes.js';

/** A small seedable generator (mulberry32): the same seed draws the same lifetimes, run after run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the emulator remembers of the sign-in behind an access token it issued, found again by the token's `uti`. */
export interface SignInSession {
  /** Authentication methods of the sign-in: `['pwd']`, or `['pwd', 'mfa']` after a second factor. */
  amr: readonly string[];
}

/** At most this many sign-ins are remembered (the oldest go first), so long benchmarks stay within memory. */
const MAX_REMEMBERED_SIGN_INS = 200_000;
const SIGN_IN_SWEEP_INTERVAL_MS = 60_000;

/** How the client authenticated, as `azpacr`/`appidacr` report it. */
export type ClientAuthenticationMethod = 'public' | 'secret' | 'certificate';
const AUTH_METHOD_CLAIM: Record<ClientAuthenticationMethod, string> = { public: '0', secret: '1', certificate: '2' };

export interface UserAccessTokenSpec {
  user: EmulatorUser;
  client: EmulatorApp;
  resource: EmulatorApp;
  scopes: string[];
  /** Authentication methods of the sign-in: `['pwd']`, or `['pwd', 'mfa']` after a second factor. */
  amr: readonly string[];
  authenticatedBy: ClientAuthenticationMethod;
  /** The App ID URI the client asked for; v1 tokens use it as `aud`. */
  requestedAudience?: string;
  /** Client capabilities the client declared (`xms_cc`), e.g. `['cp1']`. */
  clientCapabilities?: string[];
  /** Authentication contexts the sign-in satisfied, e.g. `['c1']`: the token's `acrs`. */
  acrs?: readonly string[];
  lifetimeSec?: number;
}

export interface AppAccessTokenSpec {
  client: EmulatorApp;
  resource: EmulatorApp;
  tenantId: string;
  servicePrincipalId: string;
  roles: string[];
  authenticatedBy: ClientAuthenticationMethod;
  requestedAudience?: string;
  lifetimeSec?: number;
}

export interface IdTokenSpec {
  user: EmulatorUser;
  client: EmulatorApp;
  nonce?: string | undefined;
  /** The authorization code it travels with (hybrid flow): its hash goes in `c_hash`. */
  code?: string;
  lifetimeSec?: number;
}

/** Changes to apply to a token before it is signed: a claim set to `undefined` is removed. For negative tests. */
export interface TokenOverrides {
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
}

export interface IssuedToken {
  token: string;
  claims: JwtClaims;
  expiresInSec: number;
  /** `ext_expires_in`: the lifetime plus the resilience extension. */
  extExpiresInSec: number;
  /** `refresh_in`, for a long-lived access token (see `refreshInSec`); absent otherwise. */
  refreshInSec?: number;
}

function randomClaim(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** Entra's `sub` is pairwise: the same user has a different, stable `sub` for each app. */
export function pairwiseSubject(objectId: string, clientId: string): string {
  return createHash('sha256').update(`${objectId}|${clientId}`).digest('base64url');
}

/** The left half of a SHA-256, base64url: OpenID Connect's `c_hash` of an authorization code. */
function leftHalfHash(value: string): string {
  const digest = createHash('sha256').update(value).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/** Signs Entra-shaped v1 and v2 tokens with the active key of the ring, reading time from the clock. */
export class TokenIssuer {
  private readonly signIns = new Map<string, SignInSession & { expiresAtMs: number }>();
  private lastSignInSweepMs = 0;

  constructor(
    private readonly keys: SigningKeyRing,
    private readonly clock: EmulatorClock,
    private readonly authorityHost: string,
    readonly lifetimes: EmulatorTokenLifetimes,
    private readonly random: () => number = Math.random,
  ) {}

  /** The lifetime of the next access token: the fixed one, or a fresh draw from the range. */
  accessTokenLifetimeSec(): number {
    const configured = this.lifetimes.accessTokenSec;
    if (typeof configured === 'number') return configured;
    return configured.minSec + Math.floor(this.random() * (configured.maxSec - configured.minSec + 1));
  }

  /**
   * The sign-in behind an access token this emulator issued, by the token's `uti`. Entra keeps MFA state with the
   * session, not in the token (v2 tokens carry no `amr`), and On-Behalf-Of reads it from there.
   */
  signInOf(uti: unknown): SignInSession | undefined {
    if (typeof uti !== 'string') return undefined;
    const session = this.signIns.get(uti);
    return session && session.expiresAtMs > this.clock.nowMs() ? { amr: session.amr } : undefined;
  }

  issuerV2(tenantId: string): string {
    return `${this.authorityHost}/${tenantId}/v2.0`;
  }

  issuerV1(tenantId: string): string {
    return `https://sts.windows.net/${tenantId}/`;
  }

  /** The issuers this emulator signs with, for any tenant (used to recognise its own tokens). */
  isOwnIssuer(issuer: unknown, tenantId: unknown): boolean {
    return typeof tenantId === 'string' && (issuer === this.issuerV2(tenantId) || issuer === this.issuerV1(tenantId));
  }

  /** The public key of a published signing key, or undefined once it has been retired. */
  findVerificationKey(kid: string): KeyObject | undefined {
    return this.keys.find(kid)?.publicKey;
  }

  async userAccessToken(spec: UserAccessTokenSpec, overrides?: TokenOverrides): Promise<IssuedToken> {
    const version = spec.resource.accessTokenVersion;
    const lifetimeSec = spec.lifetimeSec ?? this.accessTokenLifetimeSec();
    const { user } = spec;
    const optional = spec.resource.optionalClaims.accessToken;
    const claims: JwtClaims = {
      aud: this.audienceOf(spec.resource, version, spec.requestedAudience),
      iss: version === 2 ? this.issuerV2(user.tenantId) : this.issuerV1(user.tenantId),
      ...this.timestamps(lifetimeSec),
      // acr and amr are v1 claims: v2 access tokens carry neither (access-token-claims-reference).
      ...(version === 1 ? { acr: '1' } : {}),
      ...(optional.includes('acct') ? { acct: user.homeTenantId ? 1 : 0 } : {}),
      aio: randomClaim(48),
      ...(version === 1 ? { amr: [...spec.amr] } : {}),
      // acrs: the authentication contexts the bearer may act under, in v1 and v2 (access-token-claims-reference).
      ...(spec.acrs?.length ? { acrs: [...spec.acrs] } : {}),
      ...(version === 2
        ? { azp: spec.client.clientId, azpacr: AUTH_METHOD_CLAIM[spec.authenticatedBy] }
        : { appid: spec.client.clientId, appidacr: AUTH_METHOD_CLAIM[spec.authenticatedBy] }),
      ...this.guestClaims(user),
      ...(optional.includes('idtyp') ? { idtyp: 'user' } : {}),
      name: user.displayName,
      oid: user.id,
      ...(version === 2 ? { preferred_username: user.username } : { upn: user.username, unique_name: user.username }),
      rh: `${randomClaim(32)}.`,
      scp: spec.scopes.join(' '),
      sub: pairwiseSubject(user.id, spec.resource.clientId),
      tid: user.tenantId,
      uti: randomClaim(16),
      ver: version === 2 ? '2.0' : '1.0',
      // Client capabilities reach the token only when the resource asked for xms_cc.
      ...(spec.clientCapabilities?.length && optional.includes('xms_cc') ? { xms_cc: [...spec.clientCapabilities] } : {}),
    };
    const issued = await this.sign(claims, lifetimeSec, version, spec.resource, overrides);
    this.rememberSignIn(issued.claims.uti, { amr: [...spec.amr] }, lifetimeSec);
    return issued;
  }

  async appAccessToken(spec: AppAccessTokenSpec, overrides?: TokenOverrides): Promise<IssuedToken> {
    const version = spec.resource.accessTokenVersion;
    const lifetimeSec = spec.lifetimeSec ?? this.accessTokenLifetimeSec();
    const claims: JwtClaims = {
      aud: this.audienceOf(spec.resource, version, spec.requestedAudience),
      iss: version === 2 ? this.issuerV2(spec.tenantId) : this.issuerV1(spec.tenantId),
      ...this.timestamps(lifetimeSec),
      aio: randomClaim(48),
      ...(version === 2
        ? { azp: spec.client.clientId, azpacr: AUTH_METHOD_CLAIM[spec.authenticatedBy] }
        : { appid: spec.client.clientId, appidacr: AUTH_METHOD_CLAIM[spec.authenticatedBy] }),
      idp: this.issuerV1(spec.tenantId),
      // Without the optional claim an API tells app tokens apart by the missing scp and oid = sub.
      ...(spec.resource.optionalClaims.accessToken.includes('idtyp') ? { idtyp: 'app' } : {}),
      oid: spec.servicePrincipalId,
      rh: `${randomClaim(32)}.`,
      ...(spec.roles.length ? { roles: [...spec.roles] } : {}),
      sub: spec.servicePrincipalId,
      tid: spec.tenantId,
      uti: randomClaim(16),
      ver: version === 2 ? '2.0' : '1.0',
    };
    return this.sign(claims, lifetimeSec, version, spec.resource, overrides);
  }

  async idToken(spec: IdTokenSpec, overrides?: TokenOverrides): Promise<IssuedToken> {
    const lifetimeSec = spec.lifetimeSec ?? this.lifetimes.idTokenSec;
    const { user } = spec;
    const claims: JwtClaims = {
      aud: spec.client.clientId,
      iss: this.issuerV2(user.tenantId),
      ...this.timestamps(lifetimeSec),
      // v2 ID tokens carry aio but no amr (id-token-claims-reference).
      ...(spec.client.optionalClaims.idToken.includes('acct') ? { acct: user.homeTenantId ? 1 : 0 } : {}),
      aio: randomClaim(48),
      ...(spec.code !== undefined ? { c_hash: leftHalfHash(spec.code) } : {}),
      ...this.guestClaims(user),
      name: user.displayName,
      ...(spec.nonce !== undefined ? { nonce: spec.nonce } : {}),
      oid: user.id,
      preferred_username: user.username,
      rh: `${randomClaim(32)}.`,
      sid: randomUUID(),
      sub: pairwiseSubject(user.id, spec.client.clientId),
      tid: user.tenantId,
      uti: randomClaim(16),
      ver: '2.0',
    };
    return this.sign(claims, lifetimeSec, 2, undefined, overrides);
  }

  private audienceOf(resource: EmulatorApp, version: 1 | 2, requestedAudience: string | undefined): string {
    if (version === 2) return resource.clientId;
    return requestedAudience ?? resource.identifierUris[0] ?? resource.clientId;
  }

  private timestamps(lifetimeSec: number): JwtClaims {
    const now = this.clock.nowSec();
    // Entra back-dates nbf and iat by five minutes to tolerate clock skew at the resource.
    return { iat: now - 300, nbf: now - 300, exp: now + lifetimeSec };
  }

  /** A guest's `idp` names its home tenant; `acct` is an optional claim, added by the caller when configured. */
  private guestClaims(user: EmulatorUser): JwtClaims {
    if (!user.homeTenantId) return {};
    return { idp: this.issuerV1(user.homeTenantId) };
  }

  private rememberSignIn(uti: unknown, session: SignInSession, lifetimeSec: number): void {
    if (typeof uti !== 'string') return;
    const now = this.clock.nowMs();
    if (now - this.lastSignInSweepMs >= SIGN_IN_SWEEP_INTERVAL_MS) {
      this.lastSignInSweepMs = now;
      for (const [key, entry] of this.signIns) if (entry.expiresAtMs <= now) this.signIns.delete(key);
    }
    while (this.signIns.size >= MAX_REMEMBERED_SIGN_INS) this.signIns.delete(this.signIns.keys().next().value!);
    this.signIns.set(uti, { ...session, expiresAtMs: now + lifetimeSec * 1000 });
  }

  /**
   * v1 headers name the key twice (`x5t`, `kid`), v2 headers once (`kid`). Microsoft Graph's tokens carry a header
   * `nonce` and are signed over its hash, so they fail standard validation everywhere but at Graph, by design.
   */
  private async sign(claims: JwtClaims, lifetimeSec: number, version: 1 | 2, resource: EmulatorApp | undefined, overrides?: TokenOverrides): Promise<IssuedToken> {
    const key = this.keys.active;
    const isGraph = resource?.clientId === MICROSOFT_GRAPH_APP_ID;
    const header: JwtHeader & { alg: string } = {
      typ: 'JWT',
      ...(isGraph ? { nonce: randomClaim(32) } : {}),
      alg: 'RS256',
      ...(version === 1 ? { x5t: key.x5t } : {}),
      kid: key.kid,
    };
    const finalClaims = applyOverrides(claims, overrides?.claims);
    const finalHeader = applyOverrides(header, overrides?.header) as JwtHeader & { alg: string };
    const token = typeof finalHeader.nonce === 'string' && isGraph ? await signJwtWithHashedNonce(finalHeader, finalClaims, key.privateKey) : await signJwt(finalHeader, finalClaims, key.privateKey);
    const refreshIn = refreshInSec(lifetimeSec, this.lifetimes.refreshInFraction);
    return { token, claims: finalClaims, expiresInSec: lifetimeSec, extExpiresInSec: lifetimeSec + this.lifetimes.accessTokenExtensionSec, ...(refreshIn !== undefined ? { refreshInSec: refreshIn } : {}) };
  }
}

function applyOverrides<T extends Record<string, unknown>>(base: T, overrides: Record<string, unknown> | undefined): T {
  if (!overrides) return base;
  const result: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return result as T;
}
