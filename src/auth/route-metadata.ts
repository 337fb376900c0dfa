import { Reflector } from '@nestjs/core';

/** Route metadata read by `OboAuthGuard`; created with `Reflector.createDecorator`, never string keys. */
export const PublicRoute = Reflector.createDecorator<boolean>();
export const RequiredScopes = Reflector.createDecorator<readonly string[]>();
export const RequiredRoles = Reflector.createDecorator<readonly string[]>();
