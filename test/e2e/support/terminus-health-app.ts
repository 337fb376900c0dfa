// A readiness endpoint as an application writes it with @nestjs/terminus: TerminusModule, a controller whose route
// runs HealthCheckService.check with the module's EntraHealthIndicator. Shared by the e2e and the Redis health specs.
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { OboModule, type OboModuleOptions } from '../../../src/index.js';
import { EntraHealthIndicator } from '../../../src/terminus/index.js';
import { startNestApp, type AdapterName } from './nest-app.js';

@Controller()
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly entra: EntraHealthIndicator,
  ) {}

  @Get('health/ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.entra.isHealthy('entra')]);
  }
}

/** The app, listening on loopback; terminus's own error log is off (the tests read the responses). */
export async function startHealthApp(adapter: AdapterName, options: OboModuleOptions): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [OboModule.forRoot(options), TerminusModule.forRoot({ logger: false })], controllers: [HealthController], providers: [EntraHealthIndicator] })
  class HealthAppModule {}
  return startNestApp(HealthAppModule, adapter);
}

/** What GET /health/ready answers: terminus's HealthCheckResult, with the indicator's details under `entra`. */
export interface ReadinessAnswer {
  status: number;
  body: {
    status: 'ok' | 'degraded' | 'error' | 'shutting_down';
    info?: Record<string, { status: string }>;
    error?: Record<string, { status: string }>;
    details: { entra: { status: string; [detail: string]: unknown } };
  };
  text: string;
}

export async function readiness(url: string): Promise<ReadinessAnswer> {
  const response = await fetch(`${url}/health/ready`);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as ReadinessAnswer['body'], text };
}
