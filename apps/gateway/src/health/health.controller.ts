import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { LlmRouterHealthIndicator } from '@llm-router/nestjs/health';
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

  /**
   * Readiness: the store answers (503 when it does not). Not the shared Redis:
   * every instance shares it, so taking them all out of the load balancer
   * would not help, and without it unbudgeted tenants are still served and
   * budgeted calls follow their class's outage rule.
   */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.store.isHealthy('store')]);
  }

  /** Routing health and connectivity: degraded when a circuit is open, down when a class has no route or a store (or Redis) is down. */
  @Get()
  @HealthCheck()
  check() {
    const checks: HealthIndicatorFunction[] = [() => this.router.isHealthy('llm-router'), () => this.store.isHealthy('store')];
    if (this.redis.configured) checks.push(() => this.redis.isHealthy('redis'));
    return this.health.check(checks);
  }
}
