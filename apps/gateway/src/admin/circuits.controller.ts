import { Controller, Get } from '@nestjs/common';
import { LlmRouter } from '@llm-router/nestjs';

/**
 * `GET /admin/circuits`: every target of the policy with its circuit as the
 * router sees it now (a target never called yet is closed), for the console's
 * routing-health page and for scripts. /health says the same per target but
 * only its status.
 */
@Controller('admin')
export class CircuitsController {
  constructor(private readonly router: LlmRouter) {}

  @Get('circuits')
  async circuits() {
    const known = new Map((await this.router.circuitStates()).map((c) => [c.target, c]));
    const data = [...this.router.policy.models.values()].map((model) => {
      const c = known.get(model.name);
      return {
        target: model.name,
        provider: model.provider.name,
        status: c?.status ?? 'closed',
        consecutiveFailures: c?.consecutiveFailures ?? 0,
        retryAt: c?.retryAt !== undefined ? new Date(c.retryAt).toISOString() : null,
      };
    });
    return { object: 'list', data };
  }
}
