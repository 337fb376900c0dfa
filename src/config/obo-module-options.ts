import type { LongRunningSessionSettings } from '../cache/long-running-session-store.js';
import type { OboTokenCache } from '../cache/obo-token-cache.js';
import type { DownstreamApiOptions } from './downstream-api-options.js';

export type { DownstreamApiOptions } from './downstream-api-options.js';

/** A PEM string, or the path of a file holding one. */
export type PemOrPath = string;

/** How this API proves its identity to Entra. Exactly one kind. */
export type OboCredential =
  | { clientSecret: string }
  | {
      clientCertificate: {
        /** PKCS#8 or PKCS#1 private key (PEM or file path). */
        privateKey: PemOrPath;
        /** The certificate (PEM or file path); its SHA-256 thumbprint is computed and it is sent as `x5c`. */
        certificate?: PemOrPath;
        /** SHA-256 thumbprint (hex) when the certificate itself is not given. */
        thumbprintSha256?: string;
      };
    }
  /** A signed client assertion, or a function returning a fresh one for each request. */
  | { clientAssertion: string | (() => Promise<string>) }
  /** Workload identity federation: a file with a token Kubernetes (or another issuer) keeps fresh. */
  | { federatedTokenFile: string };

/** A source of "now"; the emulator's `clock` is one. */
export interface OboClock {
  nowMs(): number;
}

export interface OboModuleOptions {
  /** The tenant id (GUID) or domain; `organizations` or `common` for a multi-tenant API. */
  tenantId: string;
  /** This API's application (client) id. */
  clientId: string;
  /** Accepted `aud` values. Default: `clientId` and `api://{clientId}`. */
  audiences?: string[];
  /** How this API authenticates to Entra; needed only to acquire tokens (On-Behalf-Of, app tokens). */
  credential?: OboCredential;
  /** Default `https://login.microsoftonline.com`; sovereign clouds and the emulator change it. */
  authorityHost?: string;
  /** Multi-tenant: tenant ids whose tokens are accepted. */
  allowedTenants?: string[];
  /** Multi-tenant: accept tokens from any tenant (instead of `allowedTenants`). */
  allowAnyTenant?: boolean;
  /** Allowed clock difference for `exp` and `nbf`, 0 to 300 s. Default 60. */
  clockToleranceSec?: number;
  /** Where On-Behalf-Of and app tokens are cached. Default: an in-memory LRU of 10,000 entries. */
  cache?: OboTokenCache;
  /** Timeout of each request to Entra. Default 10,000 ms. */
  timeoutMs?: number;
  /** Retries of a token request that failed with 5xx, a timeout or a network error (never a 429). Default 2. */
  retries?: number;
  /**
   * Longest one token acquisition may take, attempts, backoff and waits for another instance's exchange included;
   * `timeoutMs` still bounds each attempt. Default 15,000 ms.
   */
  deadlineMs?: number;
  /** Accept B2B guests (`acct` = 1, or an `idp` other than the issuer). Default true. */
  allowGuests?: boolean;
  /** The `fetch` used for discovery, signing keys and token requests (a proxy, or the emulator's `fetch`). */
  fetch?: typeof fetch;
  /** Cached tokens are dropped this long before they expire. Default 300 s. */
  refreshMarginSec?: number;
  /** How many verified access tokens are remembered (so a repeated token is not verified again). Default 10,000. */
  verifiedTokenCacheSize?: number;
  /** Source of time for expiry checks. Default the system clock. */
  clock?: OboClock;
  /**
   * Fetch the discovery documents and signing keys in the background at bootstrap (not delaying it), so the first
   * request does not wait for them. Default true. Until the keys have loaded, requests get 503.
   */
  warmUp?: boolean;
  /**
   * With `tenantId: 'common'`: also accept personal Microsoft accounts (tokens of the consumers tenant,
   * `9188040d-6c67-4c5b-b112-36a304b66dad`). Default false; `organizations` never accepts them.
   */
  allowPersonalAccounts?: boolean;
  /** Longer access tokens are refused before any parsing or hashing. Default 256,000 (250 KB, as Microsoft.IdentityModel). */
  maxTokenLengthBytes?: number;
  /**
   * Downstream APIs called by name (`@DownstreamToken('profile')`, `@DownstreamApi('profile')`, `DownstreamApiService`):
   * names of letters, digits, `_` and `-`, each with its base URL and the scopes of one resource.
   */
  downstreamApis?: Record<string, DownstreamApiOptions>;
  /** The `fetch` for calls to downstream APIs (not to Entra). Default the global `fetch`; the emulator's `entra.fetch` for its Graph. */
  downstreamFetch?: typeof fetch;
  /** Timeout of each downstream API call, until its answer's headers arrive. Default 30,000 ms. */
  downstreamTimeoutMs?: number;
  /** Client capabilities sent with every token request; `['cp1']` tells Entra this API handles CAE claims challenges. */
  clientCapabilities?: string[];
  /**
   * Request headers, in order, whose GUID value becomes a cache miss's `client-request-id` at Entra (`traceparent`: its
   * trace id). Default `['client-request-id', 'x-ms-client-request-id', 'x-request-id', 'traceparent']`; `[]`: none.
   */
  correlationHeaders?: string[];
  /**
   * Long-running On-Behalf-Of sessions (`startLongRunningSession`): a session not refreshed for `idleTimeoutSec` is
   * gone (default 90 days, Entra's own limit for an unused refresh token; 60 s at least), and at most `maxSessions` are
   * kept, the least recently used going first (default 10,000; a bound of their own, apart from the token cache).
   */
  longRunningSessions?: Partial<LongRunningSessionSettings>;
}

/** Module-definition extras: known when the module is declared, even with `forRootAsync`. */
export interface OboModuleExtras {
  /** Register the module globally (default true). */
  isGlobal?: boolean;
  /** Register `OboAuthGuard` as a global guard (`APP_GUARD`); routes opt out with `@Public()`. Default false. */
  globalGuard?: boolean;
  /** Register the exception filter that maps `OboError`s to RFC 6750 responses. Default true. */
  exceptionFilter?: boolean;
}
