import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfidentialClientApplication, LogLevel, type AuthenticationResult, type Configuration } from '@azure/msal-node';
import type { ResolvedOboOptions } from '../config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from '../config/tokens.js';
import { AuthorityMetadataClient } from '../discovery/authority-metadata.js';
import { ClientConfigurationError, EntraResponseError, type OboError } from '../errors/obo-errors.js';
import { mapMsalFailure, parseRetryAfter, type ObservedResponse } from './msal-error-mapping.js';
import { createMsalNetworkClient } from './msal-network-client.js';

/** A token Entra issued. */
export interface ExchangedToken {
  accessToken: string;
  expiresOnMs: number;
  scopes: string[];
}

const MAX_BACKOFF_MS = 2000;
const BASE_BACKOFF_MS = 200;

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
  onBehalfOf(request: { assertion: string; tenantId: string; scopes: string[]; claims?: string }): Promise<ExchangedToken> {
    return this.withRetries('on-behalf-of', request.tenantId, request.scopes, (client, correlationId) =>
      client.acquireTokenOnBehalfOf({ oboAssertion: request.assertion, scopes: request.scopes, correlationId, skipCache: true, ...(request.claims ? { claims: request.claims } : {}) }),
    );
  }

  /** Client credentials for this API itself. */
  forApp(request: { tenantId: string; scopes: string[] }): Promise<ExchangedToken> {
    return this.withRetries('client-credentials', request.tenantId, request.scopes, (client, correlationId) =>
      client.acquireTokenByClientCredential({ scopes: request.scopes, correlationId, skipCache: true }),
    );
  }

  private async withRetries(
    flow: string,
    tenantId: string,
    scopes: string[],
    acquire: (client: ConfidentialClientApplication, correlationId: string) => Promise<AuthenticationResult | null>,
  ): Promise<ExchangedToken> {
    const [authorityMetadata, credential] = await Promise.all([this.metadata.getRaw(tenantId), this.credential()]);
    for (let attempt = 0; ; attempt += 1) {
      const correlationId = randomUUID();
      const observed: ObservedResponse = {};
      const client = new ConfidentialClientApplication(this.configuration(tenantId, authorityMetadata, credential, observed));
      try {
        const result = await acquire(client, correlationId);
        if (!result?.accessToken) throw new ClientConfigurationError('Entra ID answered without an access token.', { correlationId });
        this.logger.debug?.(`${flow} token acquired for tenant ${tenantId}, scopes ${scopes.join(' ')} (correlation ${correlationId})`);
        // MSAL dates expiry on the system clock; re-anchor it on the configured clock that the cache judges by.
        const lifetimeMs = result.expiresOn ? result.expiresOn.getTime() - Date.now() : 0;
        return { accessToken: result.accessToken, expiresOnMs: this.options.clock.nowMs() + lifetimeMs, scopes: result.scopes };
      } catch (error) {
        if (error instanceof ClientConfigurationError) throw error;
        const { error: mapped, retryable } = mapMsalFailure(error, observed, scopes);
        this.logFailure(flow, tenantId, scopes, mapped, correlationId, attempt);
        if (!retryable || attempt >= this.options.retries) throw mapped;
        const backoffMs = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
        await new Promise((resolve) => setTimeout(resolve, backoffMs / 2 + Math.random() * (backoffMs / 2)));
      }
    }
  }

  private configuration(tenantId: string, authorityMetadata: string, credential: Configuration['auth'], observed: ObservedResponse): Configuration {
    return {
      auth: {
        ...credential,
        clientId: this.options.clientId,
        authority: this.metadata.authorityUrl(tenantId),
        authorityMetadata,
        cloudDiscoveryMetadata: this.metadata.cloudDiscoveryMetadata(tenantId),
        knownAuthorities: [new URL(this.options.authorityHost).host],
      },
      system: {
        networkClient: createMsalNetworkClient(this.options.fetch, {
          timeoutMs: this.options.timeoutMs,
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

  private logFailure(flow: string, tenantId: string, scopes: string[], error: OboError, correlationId: string, attempt: number): void {
    const entra = error instanceof EntraResponseError ? error.entra : undefined;
    const code = entra?.errorCodes?.[0] !== undefined ? `AADSTS${entra.errorCodes[0]}` : (entra?.error ?? error.code);
    const message = `${flow} failed for tenant ${tenantId}, scopes ${scopes.join(' ')}: ${error.code} (${code}, correlation ${correlationId}, attempt ${attempt + 1})`;
    if (error.code === 'client_configuration') this.logger.error(message);
    else this.logger.warn(message);
  }
}
