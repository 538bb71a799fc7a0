import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { LlmRouter, TrafficClass } from '@llm-router/nestjs';
import { decideRoute, scopeRefusal } from '../auth/key-scope.js';

/**
 * A sample workflow is called with an API key like `/v1` (the auth hook
 * requires one): the key must be allowed the workflow's traffic class (403
 * otherwise). Its calls then run as the key's tenant, reserve on the key's
 * own budget (the router refuses each call once it is spent) and are
 * attributed to the key (see keyed-context.ts).
 */
@Injectable()
export class SampleAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly router: LlmRouter,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const principal = context.switchToHttp().getRequest<FastifyRequest>().llmPrincipal;
    // Authentication disabled: nothing to check.
    if (!principal || principal.keyId === null) return true;
    const trafficClass = this.reflector.getAllAndOverride(TrafficClass, [context.getHandler(), context.getClass()]);
    const generation = this.router.live.current();
    const decision = decideRoute(generation.policy, principal.scope, trafficClass, undefined);
    // The class is the workflow's, not a header's: no param to name.
    if (!decision.ok) throw scopeRefusal(decision, generation.version.id, null);
    return true;
  }
}
