// The one file that uses jose to validate tokens.
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { compactVerify, decodeProtectedHeader, importJWK, type CryptoKey } from 'jose';
import { tokenHash } from '../util/token-hash.js';
import { DEFAULT_MAX_TOKEN_LENGTH_BYTES, type VerifierSettings } from '../config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from '../config/tokens.js';
import { AuthorityMetadataClient, type DiscoveryStatus } from '../discovery/authority-metadata.js';
import { InvalidTokenError } from '../errors/obo-errors.js';
import { BoundedMap } from '../util/bounded-map.js';
import { GUID_PATTERN as GUID } from '../util/ids.js';
import { principalOf, stringClaim, validityWindowOf } from './access-token-claims.js';
import { attachAccessToken, type EntraPrincipal } from './entra-principal.js';
import { issuerAndTenantProblem, issuerTemplatesOf, type IssuerTemplates } from './issuer-rules.js';
import { invalid, rejectionDetailOf, RejectionLog } from './rejection-log.js';
import { SigningKeyStore, type SigningKeyStatus } from './signing-key-store.js';
import { bearerCredentialsOf } from './bearer-token.js';

/** What a health probe reads of the verifier: where its keys come from, the key set, and the discovery document. */
export interface VerifierHealth {
  /** The authority's host (e.g. `login.microsoftonline.com`). */
  authorityHost: string;
  /** The tenant whose documents the keys come from: the configured `tenantId` (an id, a domain, or `common`). */
  tenant: string;
  signingKeys: SigningKeyStatus;
  discovery: DiscoveryStatus;
}

/** Header parameters that carry or point to a key. A token never gets to choose the key that verifies it. */
const KEY_BEARING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

const KEY_REFRESH_INTERVAL_MS = 12 * 3600 * 1000;
const UNKNOWN_KID_COOLDOWN_MS = 5 * 60 * 1000;

/**
 * Remembered tokens are found by a number folded from their last characters (the end of the signature, different for
 * every token) and then compared whole. A `Map` keyed by a string hashes each new key string, and every request brings
 * a new string; a number hashes nothing. Two tokens that fold to the same number share a slot: the one that does not
 * compare equal is validated in full and takes the slot, so a collision costs a verification, never a wrong answer.
 */
const MEMORY_KEY_CHARACTERS = 12;
function memoryKeyOf(token: string): number {
  let key = 0x811c9dc5;
  for (let index = Math.max(0, token.length - MEMORY_KEY_CHARACTERS); index < token.length; index += 1) {
    key = Math.imul(key ^ token.charCodeAt(index), 0x01000193); // FNV-1a
  }
  return key & 0x3fffffff; // a small integer: V8 keeps it unboxed
}

interface VerifiedToken {
  token: string;
  principal: EntraPrincipal;
  expiresOnMs: number;
  notBeforeMs: number;
  kid: string;
  /** The key set's version when `kid` was last seen in it: the key is looked up again only after the set changed. */
  keysVersion: number;
  /**
   * The last `Authorization` header value found to carry `token` (see `rememberedPrincipalOfHeader`); present from the
   * start, undefined, so that every entry keeps one shape.
   */
  authorization: string | undefined;
}

/**
 * Validates Entra access tokens: RS256 only, a key from the authority's JWKS (never from the token), issuer in v2 or v1
 * form with `{tenantid}` bound to the token's own `tid`, allowed tenant, audience, `exp`/`nbf` with bounded skew, and
 * `scp` or `roles` present (so ID tokens fail). Verified tokens are remembered (compared whole) until they expire;
 * the SHA-256 hash the cache keys need is computed once, at full verification.
 * With `warmUp` (the default) discovery and keys are fetched in the background at bootstrap.
 */
@Injectable()
export class AccessTokenVerifier implements OnApplicationBootstrap {
  private readonly logger = new Logger('OboModule');
  private readonly rejections: RejectionLog;
  private readonly maxTokenLengthBytes: number;
  private readonly keyStore: SigningKeyStore;
  private readonly importedKeys = new Map<string, CryptoKey>();
  private importedKeysVersion = -1;
  private readonly verified: BoundedMap<number, VerifiedToken>;
  /** Every principal this verifier built: only these are trusted without validating their token again. */
  private readonly produced = new WeakSet<EntraPrincipal>();
  private issuerTemplates: Promise<IssuerTemplates> | undefined;
  private readonly audiences: ReadonlySet<string>;
  private readonly metadataTenant: string;

  constructor(
    @Inject(OBO_RESOLVED_OPTIONS) private readonly options: VerifierSettings,
    private readonly metadata: AuthorityMetadataClient,
  ) {
    this.audiences = new Set(options.audiences);
    this.verified = new BoundedMap(Math.max(1, options.verifiedTokenCacheSize));
    // A multi-tenant API reads its own authority's documents: `common` publishes the personal-account keys too.
    this.metadataTenant = options.tenantId;
    this.rejections = new RejectionLog(() => options.clock.nowMs());
    this.maxTokenLengthBytes = options.maxTokenLengthBytes ?? DEFAULT_MAX_TOKEN_LENGTH_BYTES;
    this.keyStore = new SigningKeyStore({
      jwksUri: async () => (await this.metadata.get(this.metadataTenant, 2)).jwks_uri,
      fetch: options.fetch,
      nowMs: () => options.clock.nowMs(),
      timeoutMs: options.timeoutMs,
      refreshIntervalMs: KEY_REFRESH_INTERVAL_MS,
      unknownKidCooldownMs: UNKNOWN_KID_COOLDOWN_MS,
    });
  }

  /** Fetches discovery and keys in the background, so bootstrap is not delayed and the first request does not wait. */
  onApplicationBootstrap(): void {
    if (this.options.warmUp ?? true) void this.warmUp();
  }

  private async warmUp(): Promise<void> {
    // Each fetch logs its own failure; one line says what it means for requests.
    await Promise.allSettled([this.loadIssuerTemplates(), this.keyStore.refresh()]);
    if (!this.keyStore.isLoaded) this.logger.warn('Warm-up could not load the signing keys; requests get 503 until they load');
  }

  /**
   * For health probes: the signing keys and the discovery document behind them. Makes a request only when no key set
   * has loaded yet (one fetch, bounded by `timeoutMs`, none while a failed fetch's backoff runs) or a due periodic
   * refresh is started (in the background); with fresh keys it answers from memory.
   */
  async health(): Promise<VerifierHealth> {
    await this.keyStore.loadIfMissing();
    return {
      authorityHost: new URL(this.options.authorityHost).host,
      tenant: this.metadataTenant,
      signingKeys: this.keyStore.status,
      discovery: this.metadata.statusOf(this.metadataTenant, 2),
    };
  }

  /**
   * Whether this verifier built `principal`, under this module's settings. A principal from another verifier (a
   * passport strategy's, another module's) or a copy is not, whatever it carries.
   */
  isOwnPrincipal(principal: unknown): principal is EntraPrincipal {
    return typeof principal === 'object' && principal !== null && this.produced.has(principal as EntraPrincipal);
  }

  /**
   * Validates `token` and returns its principal, or throws `InvalidTokenError` naming the failed check. Throws
   * `IdentityProviderUnavailableError` when the keys needed to decide cannot be fetched, and `ClientConfigurationError`
   * when the configured tenant is unknown to the identity provider.
   */
  async verify(token: string): Promise<EntraPrincipal> {
    try {
      return await this.verifyOrRemember(token);
    } catch (error) {
      if (error instanceof InvalidTokenError) this.rejections.report(error.reason, error.message, rejectionDetailOf(error));
      throw error;
    }
  }

  /**
   * The principal of a token this verifier validated before and still accepts, or undefined: synchronous, with no
   * hashing, for the guard's and the pipes' hit path. A remembered token is re-checked for what can change: time, and
   * whether its key is still published (a due key refresh runs in the background; until it lands, the last good keys
   * decide). Nothing short of the same token string finds an entry.
   */
  rememberedPrincipal(token: string): EntraPrincipal | undefined {
    const memoryKey = memoryKeyOf(token);
    const remembered = this.verified.get(memoryKey);
    if (remembered?.token !== token) return undefined;
    return this.stillAccepted(memoryKey, remembered);
  }

  /**
   * `rememberedPrincipal` for the bearer token of an `Authorization` header, given the header value itself: the guard's
   * hit path. The header is compared whole with the last one found to carry the remembered token; two header strings
   * are flat, and V8 compares them in its fast path, where a token cut out of a header goes through its runtime (about
   * 0.4 µs per request under load). A header that differs (another spelling of the scheme, another token) is parsed
   * and its token compared whole, as `rememberedPrincipal` does; only a header whose token is the remembered one is
   * kept for the next request.
   */
  rememberedPrincipalOfHeader(authorization: string): EntraPrincipal | undefined {
    // The header ends with its token, so both have the same last characters and the same memory key.
    const memoryKey = memoryKeyOf(authorization);
    const remembered = this.verified.get(memoryKey);
    if (remembered === undefined) return undefined;
    if (remembered.authorization !== authorization) {
      const token = bearerCredentialsOf(authorization);
      if (token !== remembered.token) return undefined;
      // The token as a part of this header from now on: the entry keeps one header's characters alive, not two.
      remembered.token = token;
      remembered.authorization = authorization;
    }
    return this.stillAccepted(memoryKey, remembered);
  }

  /** A remembered token's principal if time and its key still allow it; else it is forgotten. */
  private stillAccepted(memoryKey: number, remembered: VerifiedToken): EntraPrincipal | undefined {
    const nowMs = this.options.clock.nowMs();
    if (this.isCurrent(remembered, nowMs) && this.keyStillPublished(remembered)) {
      this.keyStore.refreshInBackgroundIfDue(nowMs);
      return remembered.principal;
    }
    this.verified.delete(memoryKey);
    return undefined;
  }

  /** Whether the token's signing key is still in the key set: a lookup only when the set changed since the last one. */
  private keyStillPublished(remembered: VerifiedToken): boolean {
    if (remembered.keysVersion === this.keyStore.version) return true;
    if (!this.keyStore.has(remembered.kid)) return false;
    remembered.keysVersion = this.keyStore.version;
    return true;
  }

  private async verifyOrRemember(token: string): Promise<EntraPrincipal> {
    // First, before parsing anything: a huge string (from a WebSocket, a queue) costs nothing more. A string of n
    // UTF-16 units is at most 3n UTF-8 bytes, so only a long one needs counting.
    if (typeof token !== 'string' || token.length > this.maxTokenLengthBytes || (token.length * 3 > this.maxTokenLengthBytes && Buffer.byteLength(token, 'utf8') > this.maxTokenLengthBytes)) {
      throw invalid('too_large', `The access token is longer than the ${this.maxTokenLengthBytes} bytes this API accepts.`);
    }
    const remembered = this.rememberedPrincipal(token);
    if (remembered) return remembered;
    const result = await this.verifyFully(token, tokenHash(token), this.options.clock.nowMs());
    this.remember(token, result);
    return result.principal;
  }

  private isCurrent(entry: { expiresOnMs: number; notBeforeMs: number }, nowMs: number): boolean {
    const toleranceMs = this.options.clockToleranceSec * 1000;
    return nowMs < entry.expiresOnMs + toleranceMs && nowMs >= entry.notBeforeMs - toleranceMs;
  }

  private remember(token: string, entry: VerifiedToken): void {
    if (this.options.verifiedTokenCacheSize === 0) return;
    this.verified.set(memoryKeyOf(token), entry);
  }

  private async verifyFully(token: string, hash: string, nowMs: number): Promise<VerifiedToken> {
    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(token) as Record<string, unknown>;
    } catch (error) {
      throw invalid('malformed', 'The access token is not a well-formed JWT.', error);
    }
    if (token.split('.').length !== 3) throw invalid('malformed', 'The access token is not a signed JWT (JWS compact form).');
    if (header.alg !== 'RS256') throw invalid('algorithm', 'The access token must be signed with RS256.');
    if (KEY_BEARING_HEADERS.some((name) => name in header)) throw invalid('header_key', 'The access token carries its own key in its header; such tokens are refused.');
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    if (!kid) throw invalid('signature', 'The access token names no signing key (kid).');

    const jwk = await this.keyStore.get(kid);
    if (!jwk) throw invalid('signature', 'The access token was not signed by a key of the identity provider.');
    let claims: Record<string, unknown>;
    try {
      const { payload } = await compactVerify(token, await this.importKey(jwk.kid, jwk), { algorithms: ['RS256'] });
      claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    } catch (error) {
      throw invalid('signature', 'The access token signature is not valid.', error);
    }
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw invalid('malformed', 'The access token payload is not a JSON object.');

    const { expiresOnMs, notBeforeMs } = validityWindowOf(claims, nowMs, this.options.clockToleranceSec * 1000);

    const tid = stringClaim(claims, 'tid');
    if (!tid || !GUID.test(tid)) throw invalid('issuer', 'The access token has no tenant id (tid).');
    const templates = await this.loadIssuerTemplates();
    const issuer = stringClaim(claims, 'iss');
    const { problem, tenantIssuers } = issuerAndTenantProblem({ tid, issuer, rawIssuer: claims.iss, keyIssuer: jwk.issuer }, templates, this.options);
    if (problem) throw problem;

    const audience = claims.aud;
    const audiences = Array.isArray(audience) ? audience : [audience];
    if (!audiences.some((value) => typeof value === 'string' && this.audiences.has(value))) {
      throw invalid('audience', 'The access token is not for this API (aud).', undefined, { claim: 'aud', expected: [...this.audiences], actual: audience });
    }

    const principal = principalOf(claims, { tid, issuers: [issuer!, ...tenantIssuers], allowGuests: this.options.allowGuests });
    attachAccessToken(principal, { token, hash, expiresOnMs });
    Object.freeze(principal);
    this.produced.add(principal);
    return { token, principal, expiresOnMs, notBeforeMs, kid, keysVersion: this.keyStore.version, authorization: undefined };
  }

  private async importKey(kid: string, jwk: Parameters<typeof importJWK>[0]): Promise<CryptoKey> {
    if (this.importedKeysVersion !== this.keyStore.version) {
      this.importedKeys.clear();
      this.importedKeysVersion = this.keyStore.version;
    }
    let key = this.importedKeys.get(kid);
    if (!key) {
      key = (await importJWK({ ...jwk, alg: 'RS256' }, 'RS256')) as CryptoKey;
      this.importedKeys.set(kid, key);
    }
    return key;
  }

  /** The issuer templates, from discovery once; a failure is not remembered, so the next request tries again. */
  private loadIssuerTemplates(): Promise<IssuerTemplates> {
    this.issuerTemplates ??= (async () => {
      const [v2, v1] = await Promise.all([this.metadata.get(this.metadataTenant, 2), this.metadata.get(this.metadataTenant, 1)]);
      return issuerTemplatesOf(v2.issuer, v1.issuer, this.options);
    })().catch((error: unknown) => {
      this.issuerTemplates = undefined;
      throw error;
    });
    return this.issuerTemplates;
  }
}
