import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { LlmRouterHealthIndicator } from '#llm-router';
import { RedisHealthIndicator } from './redis.health.js';
import { StoreHealthIndicator } from './store.health.js';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly router: LlmRouterHealthIndicator,
    private readonly store: StoreHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  /** Liveness: the process answers. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** Readiness: the store answers, and the shared Redis when one is configured (503 when not). */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(this.stores());
  }

  /** Routing health and store connectivity: degraded when a circuit is open, down when a class has no route or a store is down. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.router.isHealthy('llm-router'), ...this.stores()]);
  }

  private stores(): HealthIndicatorFunction[] {
    const checks: HealthIndicatorFunction[] = [() => this.store.isHealthy('store')];
    if (this.redis.configured) checks.push(() => this.redis.isHealthy('redis'));
    return checks;
  }
}
