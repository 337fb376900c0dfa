import { Injectable, type PipeTransform } from '@nestjs/common';
import { TokenAcquisitionService, type AcquiredToken } from '../exchange/token-acquisition.service.js';

export interface AppTokenOptions {
  /** `{resource}/.default` of the downstream API. */
  scopes: string | string[];
  /** Tenant to get the token in; default the configured one (required for a multi-tenant API). */
  tenantId?: string;
  /** Inject the whole `AcquiredToken` instead of the access token string. */
  result?: boolean;
}

/** Acquires the client-credentials token for `@AppToken`. */
@Injectable()
export class AppTokenPipe implements PipeTransform<AppTokenOptions, Promise<string | AcquiredToken>> {
  constructor(private readonly tokens: TokenAcquisitionService) {}

  async transform(options: AppTokenOptions): Promise<string | AcquiredToken> {
    const acquired = await this.tokens.acquireTokenForApp(options.scopes, options.tenantId ? { tenantId: options.tenantId } : {});
    return options.result ? acquired : acquired.accessToken;
  }
}
