import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { EntraPrincipal } from '../auth/entra-principal.js';
import { MissingTokenError } from '../errors/obo-errors.js';
import { markParameterFactory } from '../routes/parameter-kind.js';

/** The validated caller (`EntraPrincipal`) that `OboAuthGuard` attached to the request. */
export const CurrentUser = createParamDecorator(
  markParameterFactory((_data: unknown, context: ExecutionContext): EntraPrincipal => {
    const user = context.switchToHttp().getRequest<{ user?: EntraPrincipal }>().user;
    if (!user) throw new MissingTokenError('No validated caller on this request: guard the route with OboAuthGuard.');
    return user;
  }, 'current-user'),
);
