import { Reflector } from '@nestjs/core';

/** Route metadata read by `OboAuthGuard`; created with `Reflector.createDecorator`, never string keys. */
export const PublicRoute = Reflector.createDecorator<boolean>();
export const RequiredScopes = Reflector.createDecorator<readonly string[]>();
export const RequiredRoles = Reflector.createDecorator<readonly string[]>();
/** Authentication context ids (`c1` ... `c99`) a route requires in the token's `acrs` claim. */
export const RequiredAuthContexts = Reflector.createDecorator<readonly string[]>();
