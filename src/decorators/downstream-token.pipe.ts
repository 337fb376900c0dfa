import { Injectable, type PipeTransform } from '@nestjs/common';
import { AccessTokenVerifier } from '../auth/access-token-verifier.js';
import { principalOf, type GuardedRequest } from '../auth/request-principal.js';
import { TokenAcquisitionService, type AcquiredToken } from '../exchange/token-acquisition.service.js';

export interface DownstreamTokenOptions {
  /** The downstream API's scopes (one resource), e.g. `api://profile/Profile.Read`. */
  scopes: string | string[];
  /** Inject the whole `AcquiredToken` (expiry, scopes, cache hit) instead of the access token string. */
  result?: boolean;
}

/** What the `@DownstreamToken` parameter decorator hands to its pipe. */
export interface DownstreamTokenRequest {
  request: GuardedRequest;
  options: DownstreamTokenOptions;
}

/** Performs the On-Behalf-Of exchange for `@DownstreamToken`; built by Nest's injector, so it can use the service. */
@Injectable()
export class DownstreamTokenPipe implements PipeTransform<DownstreamTokenRequest, Promise<string | AcquiredToken>> {
  constructor(
    private readonly tokens: TokenAcquisitionService,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  async transform({ request, options }: DownstreamTokenRequest): Promise<string | AcquiredToken> {
    const principal = await principalOf(request, this.verifier);
    const acquired = await this.tokens.acquireTokenOnBehalfOf(principal, options.scopes);
    return options.result ? acquired : acquired.accessToken;
  }
}
