import { inspect } from 'node:util';
import { Controller, Get, Inject, Module, UseGuards, type INestApplication, type LoggerService } from '@nestjs/common';
import { AppToken, DownstreamToken, OboAuthGuard, OboModule, RequireRoles, RequireScopes, type AcquiredToken, type OboModuleOptions } from '../../../src/index.js';
import { DOWNSTREAM_DEFAULT, DOWNSTREAM_READ, type AdapterName } from './test-app.js';
import { startNestApp } from './nest-app.js';

export type CapturedLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal' | 'console';

export interface CapturedLine {
  level: CapturedLevel;
  text: string;
}

/** Renders a log argument as a real logger would, including error stacks and nested objects. */
function render(value: unknown): string {
  return typeof value === 'string' ? value : inspect(value, { depth: 10, breakLength: Infinity });
}

/**
 * A Nest logger that keeps every line at every level (Nest hands a custom logger every level, unfiltered), so a test
 * can assert on what the library would have written to a production log.
 */
export class CapturingLogger implements LoggerService {
  readonly lines: CapturedLine[] = [];

  readonly log = (message: unknown, ...params: unknown[]): void => this.capture('log', message, params);
  readonly error = (message: unknown, ...params: unknown[]): void => this.capture('error', message, params);
  readonly warn = (message: unknown, ...params: unknown[]): void => this.capture('warn', message, params);
  readonly debug = (message: unknown, ...params: unknown[]): void => this.capture('debug', message, params);
  readonly verbose = (message: unknown, ...params: unknown[]): void => this.capture('verbose', message, params);
  readonly fatal = (message: unknown, ...params: unknown[]): void => this.capture('fatal', message, params);
  // Nest calls this when the app is created with a logger; every level stays on here.
  setLogLevels(): void {}

  capture(level: CapturedLevel, message: unknown, params: unknown[]): void {
    this.lines.push({ level, text: [message, ...params].map(render).join(' ') });
  }
}

const SEEN_TOKENS = Symbol('SEEN_TOKENS');

/** Routes whose tokens the test must see (to check they never reach a log), without echoing them in a response. */
@Controller()
class CapturedApiController {
  constructor(@Inject(SEEN_TOKENS) private readonly seen: string[]) {}

  @Get('me')
  @UseGuards(OboAuthGuard)
  @RequireScopes('access_as_user')
  me() {
    return { ok: true };
  }

  @Get('downstream')
  @UseGuards(OboAuthGuard)
  @RequireScopes('access_as_user')
  downstream(@DownstreamToken({ scopes: DOWNSTREAM_READ, result: true }) token: AcquiredToken) {
    this.seen.push(token.accessToken);
    return { fromCache: token.fromCache };
  }

  @Get('downstream-any-scope')
  @UseGuards(OboAuthGuard)
  downstreamAnyScope(@DownstreamToken(DOWNSTREAM_READ) token: string) {
    this.seen.push(token);
    return { ok: true };
  }

  /** A custom API's scope named without its resource: Entra reads it as a Microsoft Graph scope and refuses it. */
  @Get('misnamed-scope')
  @UseGuards(OboAuthGuard)
  misnamedScope(@DownstreamToken('Profile.Read') token: string) {
    this.seen.push(token);
    return { ok: true };
  }

  @Get('app')
  @UseGuards(OboAuthGuard)
  @RequireRoles('Tasks.Read.All')
  app(@AppToken(DOWNSTREAM_DEFAULT) token: string) {
    this.seen.push(token);
    return { ok: true };
  }
}

/**
 * An app like `startTestApp`'s, but logging through `logger` at every level, and recording every downstream and app
 * token it obtained into `seenTokens`.
 */
export async function startCapturedApp(
  adapter: AdapterName,
  options: OboModuleOptions,
  logger: CapturingLogger,
  seenTokens: string[],
): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [OboModule.forRoot(options)], controllers: [CapturedApiController], providers: [{ provide: SEEN_TOKENS, useValue: seenTokens }] })
  class CapturedAppModule {}
  return startNestApp(CapturedAppModule, adapter, logger);
}
