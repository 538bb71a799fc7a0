import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { LlmRouter } from '@llm-router/nestjs';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import type { Principal } from '../auth/key-scope.js';
import { requiredTenant } from '../auth/required-tenant.js';
import { openAiError } from '../errors/openai-error.js';
import { resolveRange } from './time-range.js';
import { UsageService } from './usage.service.js';

/**
 * `GET /v1/usage`: the caller's own tenant only: spend and tokens by day,
 * class, feature, model and key, the fallback rate, the tenant's budget
 * position and the key's own budget. `?period=month|week|day|all` or `?from=&to=`;
 * `?groupBy=session` adds `bySession`.
 */
@Controller('v1')
export class UsageController {
  constructor(
    private readonly usage: UsageService,
    private readonly router: LlmRouter,
  ) {}

  @Get('usage')
  async get(@CurrentPrincipal() principal: Principal | null, @Query() query: Record<string, unknown>) {
    const tenant = requiredTenant(principal);
    const budget = await this.router.budgets.state(tenant);
    const range = resolveRange(query, budget?.period ?? 'month');
    const groupBy = query['groupBy'];
    if (groupBy !== undefined && groupBy !== 'session') {
      throw new BadRequestException(openAiError('groupBy must be "session" (the other groupings are always given).', 'invalid_request_error', 'invalid_group_by', 'groupBy'));
    }
    return this.usage.tenantUsage(tenant, range, principal ?? undefined, groupBy === 'session');
  }
}
