import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { LlmRouterHealthIndicator } from '#llm-router';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly router: LlmRouterHealthIndicator,
  ) {}

  /** Liveness: the process answers. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** Readiness and routing health: degraded when a circuit is open, down when a class has no route. */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.router.isHealthy('llm-router')]);
  }
}
