import { createParamDecorator } from '@nestjs/common';
import { AppTokenPipe, type AppTokenOptions } from './app-token.pipe.js';
import { markParameterFactory } from '../routes/parameter-kind.js';

const appTokenParameter = createParamDecorator(markParameterFactory((options: AppTokenOptions): AppTokenOptions => options, 'app-token'));

/**
 * Injects a client-credentials (app-only) access token for this API itself: `@AppToken('api://profile/.default')`,
 * or `@AppToken({ scopes, tenantId, result: true })`.
 */
export const AppToken = (scopesOrOptions: string | string[] | AppTokenOptions): ParameterDecorator => {
  const options = typeof scopesOrOptions === 'string' || Array.isArray(scopesOrOptions) ? { scopes: scopesOrOptions } : scopesOrOptions;
  const scopes = typeof options?.scopes === 'string' ? [options.scopes] : options?.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((scope) => typeof scope !== 'string' || !scope.trim().endsWith('/.default'))) {
    throw new TypeError("@AppToken needs the downstream API's '{resource}/.default' scope");
  }
  return appTokenParameter(options, AppTokenPipe);
};
