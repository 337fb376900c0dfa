import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { EntraPrincipal } from '../auth/entra-principal.js';
import { transportRequestOf } from '../auth/transport-request.js';
import { MissingTokenError } from '../errors/obo-errors.js';
import { markParameterFactory } from '../routes/parameter-kind.js';

/** The validated caller (`EntraPrincipal`) that `OboAuthGuard` attached to the request. */
export const CurrentUser = createParamDecorator(
  markParameterFactory((_data: unknown, context: ExecutionContext): EntraPrincipal => {
    const user = transportRequestOf(context).user as EntraPrincipal | undefined;
    if (!user) throw new MissingTokenError('No validated caller on this request: guard the route with OboAuthGuard.');
    return user;
  }, 'current-user'),
);
