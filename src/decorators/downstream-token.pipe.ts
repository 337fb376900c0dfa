import { Injectable, type PipeTransform } from '@nestjs/common';
import { AccessTokenVerifier } from '../auth/access-token-verifier.js';
import { knownPrincipalOf, principalOf, type GuardedRequest } from '../auth/request-principal.js';
import { acquiredToken } from '../exchange/acquired-token.js';
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
export class DownstreamTokenPipe implements PipeTransform<DownstreamTokenRequest, string | AcquiredToken | Promise<string | AcquiredToken>> {
  constructor(
    private readonly tokens: TokenAcquisitionService,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  /** A cache hit for a known caller is answered synchronously: no promise, no hash, no scope parsing. */
  transform({ request, options }: DownstreamTokenRequest): string | AcquiredToken | Promise<string | AcquiredToken> {
    try {
      const known = knownPrincipalOf(request, this.verifier);
      const hit = known && this.tokens.cachedTokenFor(known, options.scopes);
      if (hit) return options.result ? acquiredToken(hit, true) : hit.accessToken;
    } catch (error) {
      return Promise.reject(error as Error); // a refusal is a rejected promise, as from an async method
    }
    return this.acquire(request, options);
  }

  private async acquire(request: GuardedRequest, options: DownstreamTokenOptions): Promise<string | AcquiredToken> {
    const principal = await principalOf(request, this.verifier);
    const acquired = await this.tokens.acquireTokenOnBehalfOf(principal, options.scopes);
    return options.result ? acquired : acquired.accessToken;
  }
}
