import { Controller, Get } from '@nestjs/common';
import { LlmRouter } from '@llm-router/nestjs';

@Controller('v1')
export class PolicyController {
  constructor(private readonly router: LlmRouter) {}

  /** The effective routing policy, every default filled in. */
  @Get('policy')
  policy() {
    return this.router.effectivePolicy();
  }
}
