import { Logger } from '@nestjs/common';

/** One RSA verification key from a JWKS, as Entra publishes it. */
export interface SigningJwk {
  kty: string;
  kid: string;
  n?: string;
  e?: string;
  use?: string;
  x5t?: string;
  x5c?: string[];
  /** Entra's v2 key set names the issuer each key signs for (with a `{tenantid}` template). */
  issuer?: string;
}

export interface SigningKeyStoreSettings {
  /** Where the key set is (from discovery). */
  jwksUri: () => Promise<string>;
  fetch: typeof fetch;
  nowMs: () => number;
  timeoutMs: number;
  /** Keys are re-fetched this often even when nothing asks for a new one. */
  refreshIntervalMs: number;
  /** An unknown `kid` triggers at most one re-fetch per this interval (so forged kids cannot flood Entra). */
  unknownKidCooldownMs: number;
}

/**
 * Entra's signing keys, fetched from the JWKS endpoint and kept current: re-fetched periodically and when a token names
 * a key we do not know (rate-limited). A failed fetch keeps the last good keys. After a re-fetch, keys Entra no longer
 * publishes are gone, so tokens they signed stop verifying, even ones already remembered as verified.
 */
export class SigningKeyStore {
  private readonly logger = new Logger('OboModule');
  private keys = new Map<string, SigningJwk>();
  private fetchedAtMs = Number.NEGATIVE_INFINITY;
  private lastAttemptMs = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  /** Bumped whenever the key set changes, so dependants can drop what they derived from old keys. */
  version = 0;

  constructor(private readonly settings: SigningKeyStoreSettings) {}

  /** Whether `kid` is still published, as of the last fetch. */
  has(kid: string): boolean {
    return this.keys.has(kid);
  }

  /** Whether the periodic refresh is due. */
  get isStale(): boolean {
    return this.settings.nowMs() - this.fetchedAtMs >= this.settings.refreshIntervalMs;
  }

  /** The key for `kid`, refreshing first when the set is stale or the kid is unknown (within the cooldown). */
  async get(kid: string): Promise<SigningJwk | undefined> {
    // A fetch under way (the first one, or one for a newly rotated kid) answers for everyone waiting on it.
    if (this.inFlight) await this.inFlight;
    const coolingDown = this.settings.nowMs() - this.lastAttemptMs < this.settings.unknownKidCooldownMs;
    if (!coolingDown && (this.isStale || !this.keys.has(kid))) await this.refresh();
    return this.keys.get(kid);
  }

  /** Re-fetches the key set now (single-flight). */
  async refresh(): Promise<void> {
    this.inFlight ??= this.fetchKeys().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttemptMs = this.settings.nowMs();
    try {
      const uri = await this.settings.jwksUri();
      const response = await this.settings.fetch(uri, { signal: AbortSignal.timeout(this.settings.timeoutMs), headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = (await response.json()) as { keys?: unknown };
      if (!Array.isArray(body.keys)) throw new Error('no keys array');
      const keys = new Map<string, SigningJwk>();
      for (const key of body.keys as SigningJwk[]) {
        if (key && typeof key.kid === 'string' && key.kty === 'RSA' && (key.use === undefined || key.use === 'sig')) keys.set(key.kid, key);
      }
      if (keys.size === 0) throw new Error('no usable RSA signing key');
      const added = [...keys.keys()].filter((kid) => !this.keys.has(kid));
      const removed = [...this.keys.keys()].filter((kid) => !keys.has(kid));
      const changed = [...keys].some(([kid, key]) => this.keys.has(kid) && JSON.stringify(this.keys.get(kid)) !== JSON.stringify(key));
      if (added.length > 0 || removed.length > 0 || changed) {
        this.version += 1;
        if (this.fetchedAtMs !== Number.NEGATIVE_INFINITY) this.logger.log(`Signing keys refreshed: ${added.length} added, ${removed.length} removed`);
      }
      this.keys = keys;
      this.fetchedAtMs = this.settings.nowMs();
    } catch (error) {
      // Keep serving with the last good keys; the next attempt waits for the cooldown.
      this.logger.warn(`Fetching signing keys failed (${error instanceof Error ? error.message : 'unknown error'}); ${this.keys.size > 0 ? 'keeping the last good keys' : 'no keys yet'}`);
    }
  }
}
