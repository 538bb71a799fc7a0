import { HttpException, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { LlmRouter, LlmRouterError, TrafficClass } from '@llm-router/nestjs';
import { decideRoute } from '../auth/key-scope.js';
import { GatewayBudgetsService } from '../budgets/gateway-budgets.service.js';
import { openAiError } from '../errors/openai-error.js';

/**
 * A sample workflow is called with an API key like `/v1` (the auth hook
 * requires one): the key must be allowed the workflow's traffic class (403
 * otherwise) and its own budget must not be spent. Its calls then run as the
 * key's tenant and are attributed to the key (see keyed-context.ts).
 */
@Injectable()
export class SampleAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly router: LlmRouter,
    private readonly budgets: GatewayBudgetsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const principal = context.switchToHttp().getRequest<FastifyRequest>().llmPrincipal;
    // Authentication disabled: nothing to check.
    if (!principal || principal.keyId === null) return true;
    const trafficClass = this.reflector.getAllAndOverride(TrafficClass, [context.getHandler(), context.getClass()]);
    const decision = decideRoute(this.router.policy, principal.scope, trafficClass, undefined);
    if (!decision.ok) {
      throw new HttpException(openAiError(decision.message, decision.status === 403 ? 'permission_error' : 'invalid_request_error', decision.code, null), decision.status);
    }
    // Each call reserves on the key's budget (keyed-context.ts); a spent one refuses the whole workflow up front, not item by item.
    const budget = principal.budget;
    if (budget !== undefined) {
      const spent = await this.budgets.keySpent(principal);
      if (spent >= budget.budgetUsd) {
        throw new LlmRouterError({
          category: 'budget_exhausted',
          httpStatus: 402,
          origin: 'gateway',
          code: 'insufficient_quota',
          message: `API key ${principal.keyId} has spent $${spent.toFixed(6)} of its own $${budget.budgetUsd} budget for this ${budget.period} (UTC).`,
        });
      }
    }
    return true;
  }
}
