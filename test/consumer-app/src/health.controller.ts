import { Controller, Get } from '@nestjs/common';
import { LlmRouterHealthIndicator } from '@llm-router/nestjs/health';

@Controller('health')
export class HealthController {
  constructor(private readonly llm: LlmRouterHealthIndicator) {}

  @Get()
  check() {
    return this.llm.isHealthy('llm');
  }
}
