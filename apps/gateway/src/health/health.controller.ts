import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { LlmRouterHealthIndicator } from '#llm-router';
import { StoreHealthIndicator } from './store.health.js';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly router: LlmRouterHealthIndicator,
    private readonly store: StoreHealthIndicator,
  ) {}

  /** Liveness: the process answers. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** Readiness: the store answers (503 when it does not). */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.store.isHealthy('store')]);
  }

  /** Routing health and store connectivity: degraded when a circuit is open, down when a class has no route or the store is down. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.router.isHealthy('llm-router'), () => this.store.isHealthy('store')]);
  }
}
