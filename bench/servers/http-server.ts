// One benchmark server per process: `node http-server.js <scenario> <adapter>`; it prints `ready <port>`.
import 'reflect-metadata';
import { Agent } from 'node:https';
import { Session } from 'node:inspector';
import { Controller, createParamDecorator, Get, Injectable, Module, UseGuards, type CanActivate, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { passportJwtSecret } from 'jwks-rsa';
import { DownstreamToken, OboAuthGuard, OboModule } from 'nestjs-entra-obo';
import { createPinnedFetch } from 'nestjs-entra-obo/testing';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { BearerStrategy as AzureAdBearerStrategy } from 'passport-azure-ad';
import { benchEnvironment, caCertificate, type AdapterName, type ServerScenario } from '../shared.js';


const environment = benchEnvironment();
const ca = caCertificate(environment);
const v2Issuer = `${environment.authorityHost}/${environment.tenantId}/v2.0`;

@Controller()
class BareController {
  @Get('bench')
  bench() {
    return { ok: true };
  }
}

// The controls: Nest's own guard and parameter machinery with nothing of ours in them, so the floor they cost is
// visible beside our figures.
@Injectable()
class NoopGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

const ConstantParameter = createParamDecorator(() => 'constant');

@Controller()
class NoopGuardController {
  @Get('bench')
  @UseGuards(NoopGuard)
  bench() {
    return { ok: true };
  }
}

@Controller()
class NoopGuardParamController {
  @Get('bench')
  @UseGuards(NoopGuard)
  bench(@ConstantParameter() value: string) {
    return { ok: value.length > 0 };
  }
}

@Controller()
class GuardController {
  @Get('bench')
  @UseGuards(OboAuthGuard)
  bench() {
    return { ok: true };
  }
}

@Controller()
class DownstreamController {
  @Get('bench')
  @UseGuards(OboAuthGuard)
  bench(@DownstreamToken(environment.downstreamScope) token: string) {
    return { ok: token.length > 0 };
  }
}

// The history controls (shared.ts): primed through `/prime`, loaded on `/bench`.
@Controller()
class HttpsHistoryController {
  private readonly outboundFetch = createPinnedFetch(ca).fetch;

  @Get('bench')
  bench() {
    return { ok: true };
  }

  /** One outbound HTTPS request to the emulator per priming request, as the On-Behalf-Of server's priming makes. */
  @Get('prime')
  async prime() {
    await (await this.outboundFetch(`${v2Issuer}/.well-known/openid-configuration`)).arrayBuffer();
    return { ok: true };
  }
}

@Controller()
class GuardHistoryController {
  @Get('bench')
  bench() {
    return { ok: true };
  }

  /** Validates each priming token in full, as the guard server's priming does; `/bench` itself is not guarded. */
  @Get('prime')
  @UseGuards(OboAuthGuard)
  prime() {
    return { ok: true };
  }
}

@Controller()
class ExchangeHistoryController {
  @Get('bench')
  @UseGuards(OboAuthGuard)
  bench() {
    return { ok: true };
  }

  @Get('prime')
  @UseGuards(OboAuthGuard)
  prime(@DownstreamToken(environment.downstreamScope) token: string) {
    return { ok: token.length > 0 };
  }
}

@Controller()
class AzureAdController {
  @Get('bench')
  @UseGuards(AuthGuard('oauth-bearer'))
  bench() {
    return { ok: true };
  }
}

@Controller()
class JwtController {
  @Get('bench')
  @UseGuards(AuthGuard('jwt'))
  bench() {
    return { ok: true };
  }
}

// passport-azure-ad trusts only the process CA store: this process alone starts with NODE_EXTRA_CA_CERTS.
@Injectable()
class AzureAdStrategy extends PassportStrategy(AzureAdBearerStrategy, 'oauth-bearer') {
  constructor() {
    super({
      identityMetadata: `${v2Issuer}/.well-known/openid-configuration`,
      clientID: environment.middleTierClientId,
      audience: environment.middleTierClientId,
      validateIssuer: true,
      loggingLevel: 'error',
      loggingNoPII: true,
    });
  }
  validate(token: unknown) {
    return token;
  }
}

@Injectable()
class JwksStrategy extends PassportStrategy(JwtStrategy, 'jwt') {
  constructor() {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: passportJwtSecret({
        jwksUri: `${environment.authorityHost}/${environment.tenantId}/discovery/v2.0/keys`,
        cache: true,
        rateLimit: true,
        requestAgent: new Agent({ ca, keepAlive: true }),
      }),
      issuer: v2Issuer,
      audience: environment.middleTierClientId,
      algorithms: ['RS256'],
    });
  }
  validate(payload: unknown) {
    return payload;
  }
}

function oboModule(): DynamicModule {
  return OboModule.forRoot({
    tenantId: environment.tenantId,
    clientId: environment.middleTierClientId,
    credential: { clientSecret: environment.middleTierSecret },
    authorityHost: environment.authorityHost,
    fetch: createPinnedFetch(ca).fetch,
  });
}

function appModule(scenario: ServerScenario): Type {
  const shapes: Record<ServerScenario, { imports: DynamicModule[]; controllers: Type[]; providers: Type[] }> = {
    bare: { imports: [], controllers: [BareController], providers: [] },
    'bare-copy': { imports: [], controllers: [BareController], providers: [] },
    'bare+https-history': { imports: [], controllers: [HttpsHistoryController], providers: [] },
    'noop-guard': { imports: [], controllers: [NoopGuardController], providers: [] },
    'noop-guard+param': { imports: [], controllers: [NoopGuardParamController], providers: [] },
    'bare+guard-history': { imports: [oboModule()], controllers: [GuardHistoryController], providers: [] },
    guard: { imports: [oboModule()], controllers: [GuardController], providers: [] },
    'guard+exchange-history': { imports: [oboModule()], controllers: [ExchangeHistoryController], providers: [] },
    'guard+downstream-hit': { imports: [oboModule()], controllers: [DownstreamController], providers: [] },
    'passport-azure-ad': { imports: [], controllers: [AzureAdController], providers: [AzureAdStrategy] },
    'passport-jwt': { imports: [], controllers: [JwtController], providers: [JwksStrategy] },
  };
  const shape = shapes[scenario];
  @Module(shape)
  class BenchAppModule {}
  return BenchAppModule;
}

async function main(): Promise<void> {
  const [scenario, adapter] = process.argv.slice(2) as [ServerScenario, AdapterName];
  const app = await NestFactory.create(appModule(scenario), adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: ['error'] });
  // Port 0: the system picks a free one, and the orchestrator reads it from the ready line (no port race).
  await app.listen(0, '127.0.0.1');
  process.stdout.write(`ready ${(app.getHttpServer().address() as { port: number }).port}\n`);
  // The orchestrator asks for this process's CPU time around each load, to report CPU per request beside throughput.
  // `--profile` asks for a CPU profile of the load window alone (not start-up or priming), through the inspector.
  const profiler = new Session();
  process.on('message', (message) => {
    if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
    if (message === 'profile:start') {
      profiler.connect();
      profiler.post('Profiler.enable', () => profiler.post('Profiler.start', () => process.send?.({ profiling: true })));
    }
    if (message === 'profile:stop') profiler.post('Profiler.stop', (error, result) => process.send?.({ profile: error ? null : result.profile }));
  });
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
