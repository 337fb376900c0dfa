import { Inject, Injectable, Optional, type OnModuleDestroy, type PipeTransform } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AccessTokenVerifier } from '../auth/access-token-verifier.js';
import { knownPrincipalOf, principalOf, type GuardedRequest } from '../auth/request-principal.js';
import { isRequestOfServer } from '../auth/transport-request.js';
import type { ResolvedDownstreamApi, ResolvedOboOptions } from '../config/resolve-options.js';
import { OBO_RESOLVED_OPTIONS } from '../config/tokens.js';
import type { CachedToken } from '../cache/obo-token-cache.js';
import { acquiredToken } from '../exchange/acquired-token.js';
import { requestCorrelationId } from '../exchange/correlation-id.js';
import { TokenAcquisitionService, type AcquiredToken } from '../exchange/token-acquisition.service.js';
import { RunningModules, type ModuleResolver } from './running-modules.js';

export interface DownstreamTokenOptions {
  /**
   * The downstream API's scopes (one resource), e.g. `api://profile/Profile.Read`, or the name of a configured API
   * (`downstreamApis`), whose scopes are then used: a string naming a configured API is that API, any other is a scope.
   */
  scopes: string | string[];
  /** Inject the whole `AcquiredToken` (expiry, scopes, cache hit) instead of the access token string. */
  result?: boolean;
}

/** What `@DownstreamToken` resolves: the request and the decorator's options. */
export interface DownstreamTokenRequest {
  request: GuardedRequest;
  options: DownstreamTokenOptions;
}

/** The DownstreamTokenPipe of each running OboModule, for the parameter factory of `@DownstreamToken`. */
export const runningDownstreamTokenResolvers = new RunningModules<DownstreamTokenPipe>('@DownstreamToken');

/**
 * Performs the On-Behalf-Of exchange for `@DownstreamToken`; built by Nest's injector (one per OboModule), so it can use
 * the service. The decorator calls it from its parameter factory, through `runningDownstreamTokenResolvers`, rather
 * than as a pipe: a cache hit then costs no promise at all. It stays a pipe too, for code that applies it itself.
 */
@Injectable()
export class DownstreamTokenPipe implements PipeTransform<DownstreamTokenRequest, string | AcquiredToken | Promise<string | AcquiredToken>>, ModuleResolver, OnModuleDestroy {
  private readonly apis: ReadonlyMap<string, ResolvedDownstreamApi>;
  private readonly correlationHeaders: readonly string[];

  constructor(
    private readonly tokens: TokenAcquisitionService,
    private readonly verifier: AccessTokenVerifier,
    @Inject(OBO_RESOLVED_OPTIONS) options: ResolvedOboOptions,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.apis = options.downstreamApis;
    this.correlationHeaders = options.correlationHeaders;
    runningDownstreamTokenResolvers.add(this);
  }

  admitted(request: GuardedRequest): boolean {
    return this.verifier.isOwnPrincipal(request.user);
  }

  serves(request: GuardedRequest): boolean {
    return isRequestOfServer(request, this.adapterHost?.httpAdapter?.getInstance());
  }

  onModuleDestroy(): void {
    runningDownstreamTokenResolvers.delete(this);
  }

  /** A configured API's scopes for its name (one map lookup; the route scan refused unknown names), else the scopes given. */
  private scopesOf(options: DownstreamTokenOptions): string | readonly string[] {
    return typeof options.scopes === 'string' ? (this.apis.get(options.scopes)?.scopeString ?? options.scopes) : options.scopes;
  }

  transform({ request, options }: DownstreamTokenRequest): string | AcquiredToken | Promise<string | AcquiredToken> {
    return this.resolve(request, options);
  }

  /**
   * The token for `@DownstreamToken(options)` on `request`. A cache hit for a known caller is answered synchronously:
   * no promise, no hash, no scope parsing. The parameter factory calls this directly (no argument object per request).
   */
  resolve(request: GuardedRequest, options: DownstreamTokenOptions): string | AcquiredToken | Promise<string | AcquiredToken> {
    try {
      const scopes = this.scopesOf(options);
      const hit = this.tokens.heldTokenFor(request.user, scopes) ?? this.cachedTokenOf(request, scopes);
      if (hit) return options.result ? acquiredToken(hit, true) : hit.accessToken;
    } catch (error) {
      return Promise.reject(error as Error); // a refusal is a rejected promise, as from an async method
    }
    return this.acquire(request, options);
  }

  private cachedTokenOf(request: GuardedRequest, scopes: string | readonly string[]): CachedToken | undefined {
    const known = knownPrincipalOf(request, this.verifier);
    return known && this.tokens.cachedTokenFor(known, scopes);
  }

  private async acquire(request: GuardedRequest, options: DownstreamTokenOptions): Promise<string | AcquiredToken> {
    const principal = await principalOf(request, this.verifier);
    // Only a miss reads the request's id: the hit path above stays a lookup.
    const correlationId = requestCorrelationId(request.headers, this.correlationHeaders);
    const acquired = await this.tokens.acquireTokenOnBehalfOf(principal, this.scopesOf(options), correlationId ? { correlationId } : {});
    return options.result ? acquired : acquired.accessToken;
  }
}
