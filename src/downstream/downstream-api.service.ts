import { Inject, Injectable } from '@nestjs/common';
import type { EntraPrincipal } from '../auth/entra-principal.js';
import type { ResolvedDownstreamApi, ResolvedOboOptions } from '../config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from '../config/tokens.js';
import { TokenAcquisitionService } from '../exchange/token-acquisition.service.js';
import { DownstreamApiClient, type DownstreamCallSettings } from './downstream-api-client.js';

/**
 * Clients for the configured downstream APIs (`downstreamApis`), for code outside a request's parameters:
 * `forUser(principal, 'profile')` calls on behalf of the user, `forApp('reports')` as this API itself.
 */
@Injectable()
export class DownstreamApiService {
  private readonly settings: DownstreamCallSettings;

  constructor(
    @Inject(OBO_RESOLVED_OPTIONS) private readonly options: ResolvedOboOptions,
    private readonly tokens: TokenAcquisitionService,
  ) {
    this.settings = { fetch: options.downstreamFetch, timeoutMs: options.downstreamTimeoutMs };
  }

  /** A client for `name` on behalf of `user` (the principal from `@CurrentUser()`, or the raw access token); an `appToken` API gets the app's. */
  forUser(user: EntraPrincipal | string, name: string): DownstreamApiClient {
    const api = this.api(name);
    if (api.appToken) return this.forApp(name);
    const scopes = api.scopeString;
    return new DownstreamApiClient(api, {
      answersClaims: true,
      token: async (claims) => (await this.tokens.acquireTokenOnBehalfOf(user, scopes, claims ? { claims } : {})).accessToken,
    }, this.settings);
  }

  /** A client for the `appToken` API `name`, with client-credentials tokens (in `tenantId`, default the configured tenant). */
  forApp(name: string, { tenantId }: { tenantId?: string } = {}): DownstreamApiClient {
    const api = this.api(name);
    if (!api.appToken) throw new TypeError(`DownstreamApiService.forApp: '${name}' is called on behalf of a user; configure appToken: true for it, or use forUser`);
    const scopes = api.scopeString;
    return new DownstreamApiClient(api, {
      // Client credentials have no user to sign in again: a claims challenge is passed on as it came.
      answersClaims: false,
      token: async () => (await this.tokens.acquireTokenForApp(scopes, tenantId ? { tenantId } : {})).accessToken,
    }, this.settings);
  }

  /** The configured API `name`, or a TypeError listing the configured names. */
  api(name: string): ResolvedDownstreamApi {
    const api = this.options.downstreamApis.get(name);
    if (!api) {
      const known = [...this.options.downstreamApis.keys()];
      throw new TypeError(`No downstream API named '${name}' is configured (downstreamApis: ${known.length > 0 ? known.join(', ') : 'none'})`);
    }
    return api;
  }
}
