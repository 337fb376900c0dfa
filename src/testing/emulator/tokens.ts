import { createHash, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import type { EmulatorClock } from './clock.js';
import type { EmulatorApp, EmulatorUser } from './directory.js';
import { signJwt, type JwtClaims, type JwtHeader } from './jwt.js';
import type { SigningKeyRing } from './signing-keys.js';

/** Lifetimes of what the emulator issues. Access tokens must outlive msal-node's fixed 300 s expiry margin. */
export interface EmulatorTokenLifetimes {
  accessTokenSec: number;
  idTokenSec: number;
  refreshTokenSec: number;
  authorizationCodeSec: number;
}

export const DEFAULT_TOKEN_LIFETIMES: EmulatorTokenLifetimes = {
  accessTokenSec: 3600,
  idTokenSec: 3600,
  refreshTokenSec: 24 * 3600,
  authorizationCodeSec: 600,
};

/** How the client authenticated, as `azpacr`/`appidacr` report it. */
export type ClientAuthenticationMethod = 'public' | 'secret' | 'certificate';
const AUTH_METHOD_CLAIM: Record<ClientAuthenticationMethod, string> = { public: '0', secret: '1', certificate: '2' };

export interface UserAccessTokenSpec {
  user: EmulatorUser;
  client: EmulatorApp;
  resource: EmulatorApp;
  scopes: string[];
  /** Authentication methods of the sign-in: `['pwd']`, or `['pwd', 'mfa']` after a second factor. */
  amr: string[];
  authenticatedBy: ClientAuthenticationMethod;
  /** The App ID URI the client asked for; v1 tokens use it as `aud`. */
  requestedAudience?: string;
  /** Client capabilities the client declared (`xms_cc`), e.g. `['cp1']`. */
  clientCapabilities?: string[];
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
  amr: string[];
  nonce?: string;
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
}

function randomClaim(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** Entra's `sub` is pairwise: the same user has a different, stable `sub` for each app. */
export function pairwiseSubject(objectId: string, clientId: string): string {
  return createHash('sha256').update(`${objectId}|${clientId}`).digest('base64url');
}

/** Signs Entra-shaped v1 and v2 tokens with the active key of the ring, reading time from the clock. */
export class TokenIssuer {
  constructor(
    private readonly keys: SigningKeyRing,
    private readonly clock: EmulatorClock,
    private readonly authorityHost: string,
    readonly lifetimes: EmulatorTokenLifetimes,
  ) {}

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
    const lifetimeSec = spec.lifetimeSec ?? this.lifetimes.accessTokenSec;
    const { user } = spec;
    const claims: JwtClaims = {
      aud: this.audienceOf(spec.resource, version, spec.requestedAudience),
      iss: version === 2 ? this.issuerV2(user.tenantId) : this.issuerV1(user.tenantId),
      ...this.timestamps(lifetimeSec),
      ...(version === 1 ? { acr: '1' } : {}),
      aio: randomClaim(48),
      amr: [...spec.amr],
      ...(version === 2
        ? { azp: spec.client.clientId, azpacr: AUTH_METHOD_CLAIM[spec.authenticatedBy] }
        : { appid: spec.client.clientId, appidacr: AUTH_METHOD_CLAIM[spec.authenticatedBy] }),
      ...this.guestClaims(user),
      name: user.displayName,
      oid: user.id,
      ...(version === 2 ? { preferred_username: user.username } : { upn: user.username, unique_name: user.username }),
      rh: `${randomClaim(32)}.`,
      scp: spec.scopes.join(' '),
      sub: pairwiseSubject(user.id, spec.resource.clientId),
      tid: user.tenantId,
      uti: randomClaim(16),
      ver: version === 2 ? '2.0' : '1.0',
      ...(spec.clientCapabilities?.length ? { xms_cc: [...spec.clientCapabilities] } : {}),
    };
    return this.sign(claims, lifetimeSec, overrides);
  }

  async appAccessToken(spec: AppAccessTokenSpec, overrides?: TokenOverrides): Promise<IssuedToken> {
    const version = spec.resource.accessTokenVersion;
    const lifetimeSec = spec.lifetimeSec ?? this.lifetimes.accessTokenSec;
    const claims: JwtClaims = {
      aud: this.audienceOf(spec.resource, version, spec.requestedAudience),
      iss: version === 2 ? this.issuerV2(spec.tenantId) : this.issuerV1(spec.tenantId),
      ...this.timestamps(lifetimeSec),
      aio: randomClaim(48),
      ...(version === 2
        ? { azp: spec.client.clientId, azpacr: AUTH_METHOD_CLAIM[spec.authenticatedBy] }
        : { appid: spec.client.clientId, appidacr: AUTH_METHOD_CLAIM[spec.authenticatedBy] }),
      idp: this.issuerV1(spec.tenantId),
      idtyp: 'app',
      oid: spec.servicePrincipalId,
      rh: `${randomClaim(32)}.`,
      ...(spec.roles.length ? { roles: [...spec.roles] } : {}),
      sub: spec.servicePrincipalId,
      tid: spec.tenantId,
      uti: randomClaim(16),
      ver: version === 2 ? '2.0' : '1.0',
    };
    return this.sign(claims, lifetimeSec, overrides);
  }

  async idToken(spec: IdTokenSpec, overrides?: TokenOverrides): Promise<IssuedToken> {
    const lifetimeSec = spec.lifetimeSec ?? this.lifetimes.idTokenSec;
    const { user } = spec;
    const claims: JwtClaims = {
      aud: spec.client.clientId,
      iss: this.issuerV2(user.tenantId),
      ...this.timestamps(lifetimeSec),
      amr: [...spec.amr],
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
    return this.sign(claims, lifetimeSec, overrides);
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

  private guestClaims(user: EmulatorUser): JwtClaims {
    if (!user.homeTenantId) return {};
    return { acct: 1, idp: this.issuerV1(user.homeTenantId) };
  }

  private async sign(claims: JwtClaims, lifetimeSec: number, overrides?: TokenOverrides): Promise<IssuedToken> {
    const key = this.keys.active;
    const header: JwtHeader & { alg: string } = { typ: 'JWT', alg: 'RS256', x5t: key.x5t, kid: key.kid };
    const finalClaims = applyOverrides(claims, overrides?.claims);
    const finalHeader = applyOverrides(header, overrides?.header) as JwtHeader & { alg: string };
    const token = await signJwt(finalHeader, finalClaims, key.privateKey);
    return { token, claims: finalClaims, expiresInSec: lifetimeSec };
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
