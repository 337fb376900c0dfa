import type { INestApplication, LoggerService, LogLevel, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

export type AdapterName = 'express' | 'fastify';
export const ADAPTERS: AdapterName[] = ['express', 'fastify'];

/**
 * Creates a Nest app of `module` on the adapter, lets `beforeListen` configure it, and listens on loopback. A start-up
 * that fails (a bootstrap check refusing the app) closes the app again before the error reaches the test.
 */
export async function startNestApp(
  module: Type,
  adapter: AdapterName,
  logger: LoggerService | LogLevel[] | false = ['error', 'warn'],
  beforeListen: (app: INestApplication) => void = () => undefined,
): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(module, adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger });
  try {
    beforeListen(app);
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}` };
}
