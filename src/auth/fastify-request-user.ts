import type { AbstractHttpAdapter } from '@nestjs/core';

/** The part of a Fastify instance this needs (fastify is not a dependency of the library). */
interface FastifyRequestDecorators {
  hasRequestDecorator(name: string): boolean;
  decorateRequest(name: string, value: null): unknown;
}

/**
 * Declares `request.user` on Fastify's request, as Fastify asks of properties added per request (its "Decorators"
 * guide): every request object then has the same shape from the start, instead of V8 reshaping each one when the guard
 * adds `user`. Skipped when something else (a passport plugin, the app itself) declared `user` already: declaring it
 * twice throws in Fastify. Nothing to do on Express.
 */
export function declareFastifyRequestUser(adapter: AbstractHttpAdapter | undefined): void {
  if (adapter?.getType() !== 'fastify') return;
  const instance = adapter.getInstance<Partial<FastifyRequestDecorators>>();
  if (typeof instance.hasRequestDecorator !== 'function' || typeof instance.decorateRequest !== 'function') return;
  if (!instance.hasRequestDecorator('user')) instance.decorateRequest('user', null);
}
