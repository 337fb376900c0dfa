import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuthError, ConfidentialClientApplication, LogLevel, type AuthenticationResult, type Configuration } from '@azure/msal-node';
import type { ResolvedOboOptions } from '../config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from '../config/tokens.js';
import { AuthorityMetadataClient, type MsalAuthority } from '../discovery/authority-metadata.js';
import { ClientConfigurationError, EntraResponseError, IdentityProviderUnavailableError, type OboError } from '../errors/obo-errors.js';
import { observeAcquisition, type AcquisitionFlow, type AcquisitionProgress } from '../observability/open-telemetry.js';
import { refreshTokenIn } from './msal-cache-refresh-token.js';
import { describeForLog, mapMsalFailure, parseRetryAfter, type ObservedResponse } from './msal-error-mapping.js';
import { createMsalNetworkClient } from './msal-network-client.js';

/** A token Entra issued. */
export interface ExchangedToken {
  accessToken: string;
  expiresOnMs: number;
  scopes: string[];
  /** The `client-request-id` of the attempt that produced it (Entra echoes it, and logs it on its side). */
  correlationId: string;
  /** When Entra says to renew it (`refresh_in`, which MSAL reports as `refreshOn`); absent when it did not say. */
  refreshOnMs?: number;
}

/** A token and the refresh token Entra issued with it (a long-running session's). */
export interface ExchangedTokenWithRefresh extends ExchangedToken {
  refreshToken: string;
}

/** What every exchange takes: where, what, until when, and optionally the id to correlate it by. */
interface ExchangeRequest {
  tenantId: string;
  scopes: string[];
  deadlineAtMs: number;
  /** A GUID (the incoming request's id) sent as `client-request-id` on every attempt; absent: a random one each. */
  correlationId?: string;
}

type Flow = 'on-behalf-of' | 'client-credentials' | 'long-running on-behalf-of' | 'refresh-token';
/** The OpenTelemetry `flow` of each: a long-running session's start and its refreshes are both `long_running`. */
const OBSERVED_FLOW: Record<Flow, AcquisitionFlow> = { 'on-behalf-of': 'obo', 'client-credentials': 'app', 'long-running on-behalf-of': 'long_running', 'refresh-token': 'long_running' };

const MAX_BACKOFF_MS = 2000;
const BASE_BACKOFF_MS = 200;
/** What a client is told to wait after an acquisition ran out of time: Entra was slow, not necessarily down. */
const DEADLINE_RETRY_AFTER_SEC = 5;
const SCOPE_NAMING_HINT =
  "A scope without a resource (such as 'Profile.Read') is a Microsoft Graph scope; name a custom API's scope with its Application ID URI, e.g. 'api://{its app id}/Profile.Read'.";

/**
 * Talks to Entra's token endpoint through MSAL. Each exchange gets its own short-lived MSAL client, built from
 * pre-fetched authority metadata, so MSAL makes exactly one request (the token request) and its unbounded, O(n)
 * in-memory cache never holds more than that one result: caching is ours. A side effect we want: MSAL's local
 * throttling, which after one 429 blocks every user of a client instance, stays confined to the failed call.
 */
@Injectable()
export class MsalTokenExchanger {
  private readonly logger = new Logger('OboModule');

  constructor(
    @Inject(OBO_RESOLVED_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly metadata: AuthorityMetadataClient,
  ) {}

  /** The On-Behalf-Of exchange, at the caller's tenant (never `/common`). */
  onBehalfOf(request: ExchangeRequest & { assertion: string; claims?: string }): Promise<ExchangedToken> {
    return this.withRetries('on-behalf-of', request, (client, correlationId) =>
      client.acquireTokenOnBehalfOf({ oboAssertion: request.assertion, scopes: request.scopes, correlationId, skipCache: true, ...(request.claims ? { claims: request.claims } : {}) }),
    );
  }

  /** Client credentials for this API itself. */
  forApp(request: ExchangeRequest): Promise<ExchangedToken> {
    return this.withRetries('client-credentials', request, (client, correlationId) => client.acquireTokenByClientCredential({ scopes: request.scopes, correlationId, skipCache: true }));
  }

  /**
   * The On-Behalf-Of exchange that starts a long-running session: the same request (msal-node adds `openid profile
   * offline_access` to every OBO request, so Entra sends a refresh token), with the refresh token read from the
   * client's cache.
   */
  startLongRunning(request: ExchangeRequest & { assertion: string }): Promise<ExchangedTokenWithRefresh> {
    return this.withRefreshToken('long-running on-behalf-of', request, (client, correlationId) =>
      client.acquireTokenOnBehalfOf({ oboAssertion: request.assertion, scopes: request.scopes, correlationId, skipCache: true }),
    );
  }

  /**
   * The refresh-token grant of a long-running session, for any resource the user's grant reaches. Entra answers with
   * a new refresh token, which replaces the old one (the old one is not kept). `forceCache`: the client has no
   * account cached (it is new), and without it msal-common's ResponseHandler drops the refreshed tokens, the new
   * refresh token among them ("Account used to refresh tokens not in persistence").
   */
  refreshLongRunning(request: ExchangeRequest & { refreshToken: string }): Promise<ExchangedTokenWithRefresh> {
    return this.withRefreshToken('refresh-token', request, (client, correlationId) =>
      client.acquireTokenByRefreshToken({ refreshToken: request.refreshToken, scopes: request.scopes, correlationId, forceCache: true }),
      request.refreshToken,
    );
  }

  /** `acquire`, keeping the refresh token of the attempt that succeeded (or `previous` when Entra sent no new one). */
  private async withRefreshToken(
    flow: Flow,
    request: ExchangeRequest,
    acquire: (client: ConfidentialClientApplication, correlationId: string) => Promise<AuthenticationResult | null>,
    previous?: string,
  ): Promise<ExchangedTokenWithRefresh> {
    let refreshToken: string | undefined;
    const exchanged = await this.withRetries(flow, request, async (client, correlationId) => {
      const result = await acquire(client, correlationId);
      refreshToken = refreshTokenIn(client) ?? previous;
      return result;
    });
    if (!refreshToken) throw new ClientConfigurationError('Entra ID answered the On-Behalf-Of exchange without a refresh token, so no long-running session can start (is offline_access refused to this API?).', { correlationId: exchanged.correlationId });
    return { ...exchanged, refreshToken };
  }

  /**
   * Attempts until one succeeds, a failure is not worth repeating, `retries` run out, or the next attempt could not
   * finish before `deadlineAtMs` (a wall-clock time, like the timers that enforce it): each attempt's timeout is cut to
   * what is left, and a 5xx's `Retry-After` is waited out only when it fits.
   */
  private withRetries(
    flow: Flow,
    request: ExchangeRequest,
    acquire: (client: ConfidentialClientApplication, correlationId: string) => Promise<AuthenticationResult | null>,
  ): Promise<ExchangedToken> {
    return observeAcquisition(OBSERVED_FLOW[flow], request, (progress) => this.attempts(flow, request, acquire, progress));
  }

  private async attempts(
    flow: string,
    request: ExchangeRequest,
    acquire: (client: ConfidentialClientApplication, correlationId: string) => Promise<AuthenticationResult | null>,
    progress: AcquisitionProgress,
  ): Promise<ExchangedToken> {
    const { tenantId, scopes, deadlineAtMs } = request;
    const [authority, credential] = await Promise.all([this.metadata.msalAuthority(tenantId), this.credential()]);
    for (let attempt = 0; ; attempt += 1) {
      const remainingMs = deadlineAtMs - Date.now();
      if (remainingMs <= 0) throw new IdentityProviderUnavailableError(`The token request did not complete within deadlineMs (${this.options.deadlineMs} ms).`, DEADLINE_RETRY_AFTER_SEC);
      const correlationId = request.correlationId ?? randomUUID();
      progress.attempt(correlationId);
      const observed: ObservedResponse = {};
      const client = new ConfidentialClientApplication(this.configuration(authority, credential, observed, Math.min(this.options.timeoutMs, remainingMs)));
      try {
        const result = await acquire(client, correlationId);
        if (!result?.accessToken) throw new ClientConfigurationError('Entra ID answered without an access token.', { correlationId });
        this.logger.debug?.(`${flow} token acquired for tenant ${tenantId}, scopes ${scopes.join(' ')} (correlation ${correlationId})`);
        // MSAL dates expiry on the system clock; re-anchor it on the configured clock that the cache judges by.
        const nowMs = this.options.clock.nowMs();
        const lifetimeMs = result.expiresOn ? result.expiresOn.getTime() - Date.now() : 0;
        const refreshOnMs = result.refreshOn ? nowMs + (result.refreshOn.getTime() - Date.now()) : undefined;
        return { accessToken: result.accessToken, expiresOnMs: nowMs + lifetimeMs, scopes: result.scopes, correlationId, ...(refreshOnMs !== undefined ? { refreshOnMs } : {}) };
      } catch (error) {
        if (error instanceof ClientConfigurationError) throw error;
        const { error: mapped, retryable } = mapMsalFailure(error, observed, scopes, tenantId);
        this.logFailure(flow, tenantId, scopes, mapped, error, correlationId, attempt);
        if (!retryable || attempt >= this.options.retries) throw mapped;
        // Entra's own Retry-After on a 5xx says when trying again is useful; our backoff applies otherwise.
        const backoffMs = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
        const waitMs = observed.retryAfterSec !== undefined ? observed.retryAfterSec * 1000 : backoffMs / 2 + Math.random() * (backoffMs / 2);
        if (Date.now() + waitMs >= deadlineAtMs) throw mapped;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  private configuration(authority: MsalAuthority, credential: Configuration['auth'], observed: ObservedResponse, timeoutMs: number): Configuration {
    return {
      // Capabilities (`cp1`) go with every request; MSAL merges them into the `claims` parameter, beside a challenge's.
      auth: { ...credential, clientId: this.options.clientId, ...authority, ...(this.options.clientCapabilities.length > 0 ? { clientCapabilities: [...this.options.clientCapabilities] } : {}) },
      system: {
        networkClient: createMsalNetworkClient(this.options.fetch, {
          timeoutMs,
          onResponse: (status, headers) => {
            observed.status = status;
            const retryAfterSec = parseRetryAfter(headers.get('retry-after'), this.options.clock.nowMs());
            if (retryAfterSec !== undefined) observed.retryAfterSec = retryAfterSec;
          },
        }),
        // MSAL's own logging stays off: it may include PII; we log what matters without tokens.
        loggerOptions: { piiLoggingEnabled: false, logLevel: LogLevel.Error, loggerCallback: () => undefined },
      },
    };
  }

  /** MSAL's credential fields; a federated token file is read on every request since its issuer rotates it. */
  private async credential(): Promise<Configuration['auth']> {
    const credential = this.options.credential;
    const clientId = this.options.clientId;
    if (!credential) {
      throw new ClientConfigurationError('OboModule has no credential: configure one (clientSecret, clientCertificate, ...) to acquire tokens.', {});
    }
    switch (credential.kind) {
      case 'secret':
        return { clientId, clientSecret: credential.clientSecret };
      case 'certificate':
        return {
          clientId,
          clientCertificate: {
            thumbprintSha256: credential.thumbprintSha256,
            privateKey: credential.privateKeyPem,
            ...(credential.certificatePem ? { x5c: credential.certificatePem } : {}),
          },
        };
      case 'assertion':
        return { clientId, clientAssertion: await credential.getAssertion() };
      case 'federated':
        return { clientId, clientAssertion: (await readFile(credential.tokenFile, 'utf8')).trim() };
    }
  }

  /**
   * One line per failed attempt, never with a token. Our own credential or registration being refused is an error
   * with Entra's description (it names the problem and carries no secret); a claims challenge is a normal step of MFA
   * and Conditional Access, so it is debug; the rest are warnings.
   */
  private logFailure(flow: string, tenantId: string, scopes: string[], error: OboError, raw: unknown, correlationId: string, attempt: number): void {
    const entra = error instanceof EntraResponseError ? error.entra : undefined;
    const code = entra?.errorCodes?.[0] !== undefined ? `AADSTS${entra.errorCodes[0]}` : (entra?.error ?? error.code);
    const message = `${flow} failed for tenant ${tenantId}, scopes ${scopes.join(' ')}: ${error.code} (${code}, correlation ${correlationId}, attempt ${attempt + 1})`;
    if (error.code === 'client_configuration') {
      const description = describeForLog(raw instanceof AuthError ? raw.errorMessage : undefined);
      const hint = entra?.error === 'invalid_scope' || entra?.error === 'invalid_resource' ? ` ${SCOPE_NAMING_HINT}` : '';
      this.logger.error(`${message}${description ? `: ${description}` : ''}${hint}`);
    } else if (error.code === 'insufficient_claims') this.logger.debug?.(message);
    else this.logger.warn(message);
  }
}
