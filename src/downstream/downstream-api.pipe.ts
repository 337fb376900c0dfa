import { Injectable, type PipeTransform } from '@nestjs/common';
import { AccessTokenVerifier } from '../auth/access-token-verifier.js';
import { principalOf, type GuardedRequest } from '../auth/request-principal.js';
import type { DownstreamApiClient } from './downstream-api-client.js';
import { DownstreamApiService } from './downstream-api.service.js';

/** What the `@DownstreamApi` parameter decorator hands to its pipe. */
export interface DownstreamApiRequest {
  request: GuardedRequest;
  name: string;
}

/** Builds the `@DownstreamApi` client: bound to the request's caller, or to the app for an `appToken` API. */
@Injectable()
export class DownstreamApiPipe implements PipeTransform<DownstreamApiRequest, DownstreamApiClient | Promise<DownstreamApiClient>> {
  constructor(
    private readonly apis: DownstreamApiService,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  transform({ request, name }: DownstreamApiRequest): DownstreamApiClient | Promise<DownstreamApiClient> {
    if (this.apis.api(name).appToken) return this.apis.forApp(name);
    return principalOf(request, this.verifier).then((principal) => this.apis.forUser(principal, name));
  }
}
