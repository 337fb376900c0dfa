import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { looksLikeApiName } from '../config/downstream-api-options.js';
import { transportRequestOf } from '../auth/transport-request.js';
import { markParameterFactory } from '../routes/parameter-kind.js';
import { DownstreamApiPipe, type DownstreamApiRequest } from './downstream-api.pipe.js';

const downstreamApiParameter = createParamDecorator(
  markParameterFactory((name: string, context: ExecutionContext): DownstreamApiRequest => ({ request: transportRequestOf(context), name }), 'downstream-api'),
);

/**
 * Injects a `DownstreamApiClient` for the configured API `name` (`downstreamApis`), bound to the caller (On-Behalf-Of)
 * or, for an `appToken` API, to this app: `@DownstreamApi('profile') profile: DownstreamApiClient`. An unknown name
 * stops the application's start.
 */
export const DownstreamApi = (name: string): ParameterDecorator => {
  if (!looksLikeApiName(name)) throw new TypeError("@DownstreamApi needs the name of a configured downstream API (downstreamApis), e.g. @DownstreamApi('profile')");
  return downstreamApiParameter(name, DownstreamApiPipe);
};
