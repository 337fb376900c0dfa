// What passport-azure-ad's tests used to run a strategy (chai-passport-strategy, and its End_to_end_test API app), for
// our BearerStrategy: one authentication outside HTTP, and a Nest app guarding its routes with the strategy.
import { Controller, Get, HttpCode, Injectable, Module, Post, Req, UseGuards, type ExecutionContext } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { PassportStrategy } from '@nestjs/passport';
import { OboExceptionFilter } from '../../src/index.js';
import { BearerStrategy, EntraAuthGuard, type BearerAuthenticateOptions, type BearerStrategyOptions, type BearerVerifyCallback } from '../../src/passport/index.js';
import { startNestApp, type AdapterName } from './support/nest-app.js';

/** How one authentication ended: passport's `success`, `fail` or `error`. */
export type StrategyResult =
  | { kind: 'success'; user: unknown; info: unknown }
  | { kind: 'fail'; challenge: unknown; status: number | undefined }
  | { kind: 'error'; error: unknown };

/** A request as passport hands it to a strategy. */
export interface StrategyRequest {
  url?: string;
  headers?: Record<string, string>;
  body?: Record<string, unknown>;
  query?: Record<string, unknown>;
}

/**
 * Runs one authentication as passport does (chai-passport-strategy's way): a copy of the strategy gets `success`,
 * `fail` and `error`, and `authenticate(request, options)` is called.
 */
export function authenticateOnce(strategy: BearerStrategy, request: StrategyRequest = {}, options?: BearerAuthenticateOptions): Promise<StrategyResult & { request: StrategyRequest }> {
  const sent = { url: '/', headers: {}, ...request };
  return new Promise((resolve) => {
    const attempt = Object.create(strategy) as BearerStrategy;
    attempt.success = (user, info) => resolve({ kind: 'success', user, info, request: sent });
    attempt.fail = (challenge, status) => resolve({ kind: 'fail', challenge, status, request: sent });
    attempt.error = (error) => resolve({ kind: 'error', error, request: sent });
    attempt.authenticate(sent as never, options);
  });
}

/** A strategy whose verify callback answers as passport-azure-ad's tests did: the token's `oid` as the user. */
export function strategyReturningOid(options: BearerStrategyOptions): BearerStrategy {
  const verify: BearerVerifyCallback = (...args: unknown[]) => {
    const done = args[args.length - 1] as (error: unknown, user?: unknown, info?: unknown) => void;
    const token = args[args.length - 2] as Record<string, unknown>;
    done(null, token.oid, 'authentication successful');
  };
  return new BearerStrategy(options, verify);
}

/** The app of passport-azure-ad's End_to_end_test (`/api` answers "succeeded"), on Nest, with the strategy. */
export async function startCasesApp(adapter: AdapterName, options: BearerStrategyOptions) {
  @Injectable()
  class CaseStrategy extends PassportStrategy(BearerStrategy, 'oauth-bearer') {
    constructor() {
      super(options);
    }
    /** `(token, done)`, or `(req, token, done)` with passReqToCallback (`@nestjs/passport` passes `done` on). */
    validate(...args: unknown[]) {
      const values = args.filter((arg) => typeof arg !== 'function');
      const claims = values[values.length - 1] as Record<string, unknown>;
      return { oid: claims.oid, tid: claims.tid, requestPassed: values.length === 2 };
    }
  }

  /** The tenant of a `/tenants/:tenant/api` route, as passport-azure-ad's `tenantIdOrName` authenticate option. */
  @Injectable()
  class TenantFromPathGuard extends EntraAuthGuard('oauth-bearer') {
    getAuthenticateOptions(context: ExecutionContext): BearerAuthenticateOptions {
      const request = context.switchToHttp().getRequest<{ params?: Record<string, string> }>();
      return { tenantIdOrName: request.params?.tenant };
    }
  }

  @Controller()
  class ApiController {
    @Get('api')
    @UseGuards(EntraAuthGuard('oauth-bearer'))
    api(@Req() request: { user?: unknown }) {
      return { result: 'succeeded', user: request.user };
    }

    @Post('api')
    @HttpCode(200)
    @UseGuards(EntraAuthGuard('oauth-bearer'))
    postApi(@Req() request: { user?: unknown }) {
      return { result: 'succeeded', user: request.user };
    }

    @Get('tenants/:tenant/api')
    @UseGuards(TenantFromPathGuard)
    tenantApi(@Req() request: { user?: unknown }) {
      return { result: 'succeeded', user: request.user };
    }
  }

  @Module({ controllers: [ApiController], providers: [CaseStrategy, { provide: APP_FILTER, useClass: OboExceptionFilter }] })
  class CasesModule {}
  return startNestApp(CasesModule, adapter, false);
}
