import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { LlmRouter } from '../router/llm-router.service.js';

/**
 * Terminus indicator for the router: `up` when every circuit is closed,
 * `degraded` when some target's circuit is open, `down` when some traffic
 * class has no target left to call.
 */
@Injectable()
export class LlmRouterHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly router: LlmRouter,
  ) {}

  async isHealthy<const Key extends string = 'llm-router'>(key: Key = 'llm-router' as Key): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    const circuits = await this.router.circuitStates();
    const open = new Set(circuits.filter((c) => c.status === 'open').map((c) => c.target));
    const targets = Object.fromEntries(circuits.map((c) => [c.target, c.status]));
    const unroutable = [...this.router.policy.classes.values()]
      .filter((cls) => cls.route.every((m) => open.has(m.name)))
      .map((cls) => cls.name);
    // The policy version shows a fleet split between two versions.
    const policyVersion = this.router.policyVersion.id;
    if (unroutable.length > 0) return indicator.down({ openCircuits: [...open], unroutableClasses: unroutable, targets, policyVersion });
    if (open.size > 0) return indicator.degraded({ openCircuits: [...open], targets, policyVersion });
    return indicator.up({ targets, policyVersion });
  }
}
