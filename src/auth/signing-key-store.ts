import { Logger } from '@nestjs/common';
import { RetryBackoff } from '../discovery/retry-backoff.js';
import { IdentityProviderUnavailableError, OboError } from '../errors/obo-errors.js';

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
  /** Keys are re-fetched this often even when nothing asks for a new one (in the background). */
  refreshIntervalMs: number;
  /**
   * After a successful re-fetch made for an unknown `kid`, another unknown `kid` waits this long before it may cause a
   * re-fetch (so forged kids cannot flood Entra). Start-up and periodic fetches do not start this wait.
   */
  unknownKidCooldownMs: number;
  /** First wait after a failed fetch (doubling per failure, jittered). Default 1 s. */
  retryInitialMs?: number;
  /** Longest wait after failed fetches. Default 30 s. */
  retryMaxMs?: number;
  /** For tests: the jitter's random source. */
  random?: () => number;
}

type FetchReason = 'initial' | 'periodic' | 'unknown-kid';

/** What a health probe reports of the key set: ids and times only (key ids are public, as in the JWKS). */
export interface SigningKeyStatus {
  /** The `kid`s of the last good key set; empty when none has loaded. */
  keyIds: string[];
  /** When the last good key set was fetched (on the configured clock), or undefined. */
  fetchedAtMs: number | undefined;
  /** Whether the periodic refresh is due (or no key set has loaded). */
  stale: boolean;
  /** Why the last fetch failed, when it did: a short description (HTTP status, network error), never a body. */
  lastError: string | undefined;
  /** Seconds until a failed fetch may be retried, when one failed. */
  retryAfterSec: number | undefined;
}

const MAX_ERROR_CHARS = 200;

/**
 * Entra's signing keys, fetched from the JWKS endpoint and kept current. A token whose key is known never waits: when
 * the periodic refresh is due it runs in the background and the last good keys keep serving. A token naming an unknown
 * key waits for one re-fetch (rate-limited by the cooldown). A failed fetch is retried after a short jittered backoff,
 * never after the cooldown; while no key has ever loaded, or an unknown key could not be looked up because the fetch
 * failed, `get` throws `IdentityProviderUnavailableError` (503), not "bad token". After a re-fetch, keys Entra no
 * longer publishes are gone, so tokens they signed stop verifying, even ones already remembered as verified.
 */
export class SigningKeyStore {
  private readonly logger = new Logger('OboModule');
  private keys = new Map<string, SigningJwk>();
  private fetchedAtMs = Number.NEGATIVE_INFINITY;
  private unknownKidRefreshedAtMs = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<boolean> | undefined;
  private readonly backoff: RetryBackoff;
  private lastError: unknown;
  /** Bumped whenever the key set changes, so dependants can drop what they derived from old keys. */
  version = 0;

  constructor(private readonly settings: SigningKeyStoreSettings) {
    this.backoff = new RetryBackoff({
      initialMs: settings.retryInitialMs ?? 1_000,
      maxMs: settings.retryMaxMs ?? 30_000,
      nowMs: settings.nowMs,
      ...(settings.random ? { random: settings.random } : {}),
    });
  }

  /** Whether `kid` is still published, as of the last successful fetch. */
  has(kid: string): boolean {
    return this.keys.has(kid);
  }

  /** Whether a key set has ever loaded. */
  get isLoaded(): boolean {
    return this.fetchedAtMs !== Number.NEGATIVE_INFINITY;
  }

  /** Whether the periodic refresh is due. */
  get isStale(): boolean {
    return this.isStaleAt(this.settings.nowMs());
  }

  private isStaleAt(nowMs: number): boolean {
    return nowMs - this.fetchedAtMs >= this.settings.refreshIntervalMs;
  }

  /** The key set as known now, without fetching anything. */
  get status(): SigningKeyStatus {
    const failed = this.backoff.hasFailed;
    return {
      keyIds: [...this.keys.keys()],
      fetchedAtMs: this.isLoaded ? this.fetchedAtMs : undefined,
      stale: this.isStale,
      lastError: failed ? describeError(this.lastError) : undefined,
      retryAfterSec: failed ? this.backoff.retryAfterSec : undefined,
    };
  }

  /**
   * For a health probe, however often it runs: when no key set has loaded, waits for the fetch under way or makes one
   * (bounded by the timeout), unless a failed fetch's backoff still runs, so a dead JWKS endpoint sees at most one
   * fetch per backoff period; when loaded, starts a due periodic refresh in the background (an idle API keeps its keys
   * current). With keys loaded and fresh it makes no request at all.
   */
  async loadIfMissing(): Promise<void> {
    if (this.isLoaded) {
      this.refreshInBackgroundIfDue();
      return;
    }
    if (this.inFlight) {
      await this.inFlight;
      return;
    }
    if (!this.backoff.isWaiting) await this.fetchOnce('initial');
  }

  /**
   * Starts the periodic refresh in the background when it is due (and no fetch is under way or backing off). Callers
   * holding a known key call this and go on with the keys they have.
   */
  refreshInBackgroundIfDue(nowMs = this.settings.nowMs()): void {
    if (this.isStaleAt(nowMs) && this.isLoaded && !this.inFlight && !this.backoff.isWaiting) void this.fetchOnce('periodic');
  }

  /**
   * The key for `kid`: at once when known; after one re-fetch when unknown (unless the cooldown holds, then
   * undefined). Throws `IdentityProviderUnavailableError` when the answer cannot be known because fetching failed.
   */
  async get(kid: string): Promise<SigningJwk | undefined> {
    const known = this.keys.get(kid);
    if (known) {
      this.refreshInBackgroundIfDue();
      return known;
    }
    // A fetch under way (the first one, or one for a newly rotated kid) answers for everyone waiting on it.
    if (this.inFlight) {
      await this.inFlight;
      const found = this.keys.get(kid);
      if (found) return found;
    }
    if (this.backoff.isWaiting) throw this.unavailable();
    if (this.isLoaded && this.settings.nowMs() - this.unknownKidRefreshedAtMs < this.settings.unknownKidCooldownMs) return undefined;
    if (!(await this.fetchOnce(this.isLoaded ? 'unknown-kid' : 'initial'))) throw this.unavailable();
    return this.keys.get(kid);
  }

  /** Fetches the key set now (single-flight); resolves either way, a failure is logged and starts the backoff. */
  async refresh(): Promise<void> {
    await (this.inFlight ?? this.fetchOnce(this.isLoaded ? 'periodic' : 'initial'));
  }

  private unavailable(): OboError {
    // Our own deployment mistake (an unknown tenant) is not the identity provider being down: pass it on as it is.
    if (this.lastError instanceof OboError && this.lastError.code === 'client_configuration') return this.lastError;
    const message = this.isLoaded
      ? "The token's signing key is not among the known keys, and the identity provider's key set could not be fetched to look for it."
      : "The identity provider's signing keys could not be fetched.";
    return new IdentityProviderUnavailableError(message, this.backoff.retryAfterSec, {}, { cause: this.lastError });
  }

  private fetchOnce(reason: FetchReason): Promise<boolean> {
    this.inFlight ??= this.fetchKeys(reason).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async fetchKeys(reason: FetchReason): Promise<boolean> {
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
        if (this.isLoaded) this.logger.log(`Signing keys refreshed: ${added.length} added, ${removed.length} removed`);
      }
      if (this.backoff.hasFailed) this.logger.log('Signing keys fetched again after failed attempts');
      this.keys = keys;
      this.fetchedAtMs = this.settings.nowMs();
      if (reason === 'unknown-kid') this.unknownKidRefreshedAtMs = this.fetchedAtMs;
      this.backoff.succeeded();
      this.lastError = undefined;
      return true;
    } catch (error) {
      // Keep serving with the last good keys; the next attempt waits for the (short) backoff, not the cooldown.
      const first = !this.backoff.hasFailed;
      this.backoff.failed();
      this.lastError = error;
      const line = `Fetching signing keys failed (${error instanceof Error ? error.message : 'unknown error'}); ${this.keys.size > 0 ? 'keeping the last good keys' : 'no keys yet'}; next attempt in ${this.backoff.retryAfterSec} s at the earliest`;
      // One warning per outage; the retries of the same outage go to debug.
      if (first) this.logger.warn(line);
      else this.logger.debug(line);
      return false;
    }
  }
}

/** An error as a health report may show it: its message (ours, or the network's), one line, cut short. */
function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : 'unknown error';
  const line = message.replace(/\s+/g, ' ');
  return line.length > MAX_ERROR_CHARS ? `${line.slice(0, MAX_ERROR_CHARS)}…` : line;
}
