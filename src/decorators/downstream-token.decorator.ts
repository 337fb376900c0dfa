import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { runningDownstreamTokenResolvers, type DownstreamTokenOptions } from './downstream-token.pipe.js';
import { transportRequestOf } from '../auth/transport-request.js';
import { markParameterFactory } from '../routes/parameter-kind.js';

// No pipe: the factory itself answers, synchronously on a cache hit, and with a promise otherwise (Nest settles a
// parameter's promise before the handler runs, on every transport). A pipe would add Nest's pipe machinery, several
// promises, to every request. Errors come as rejected promises, as from a pipe.
const downstreamTokenParameter = createParamDecorator(
  markParameterFactory((options: DownstreamTokenOptions, context: ExecutionContext) => {
    const request = transportRequestOf(context);
    return runningDownstreamTokenResolvers.for(request).resolve(request, options);
  }, 'downstream-token'),
);

/**
 * Injects an access token for a downstream API, obtained On-Behalf-Of the caller and cached per user:
 * `@DownstreamToken('api://profile/Profile.Read') token: string`, or `@DownstreamToken({ scopes, result: true })`
 * for the `AcquiredToken`. `@DownstreamToken('profile')` names a configured API (`downstreamApis`) and takes its scopes
 * from the options: a word without `.`, `/` or `:` is a name, and an unknown one stops the application's start.
 */
export const DownstreamToken = (scopesOrOptions: string | string[] | DownstreamTokenOptions): ParameterDecorator => {
  const options = typeof scopesOrOptions === 'string' || Array.isArray(scopesOrOptions) ? { scopes: scopesOrOptions } : scopesOrOptions;
  const scopes = typeof options?.scopes === 'string' ? [options.scopes] : options?.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((scope) => typeof scope !== 'string' || scope.trim() === '')) {
    throw new TypeError('@DownstreamToken needs at least one scope of the downstream API');
  }
  return downstreamTokenParameter(options);
};
