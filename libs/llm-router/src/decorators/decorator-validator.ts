import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { LLM_ROUTER_POLICY } from '../policy/policy.token.js';
import { PolicyValidationError, type PolicyIssue } from '../policy/policy-validation.error.js';
import { controllerTargets } from './controller-targets.js';
import { QualityFloor } from './quality-floor.decorator.js';
import { TrafficClass } from './traffic-class.decorator.js';

/** Fails start-up when a decorator names a class or tier the policy does not define. */
@Injectable()
export class DecoratorValidator implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(LLM_ROUTER_POLICY) private readonly policy: CompiledPolicy,
  ) {}

  onModuleInit(): void {
    const issues = this.issuesFor(this.policy);
    if (issues.length > 0) throw new PolicyValidationError(issues, 'decorators (checked against the policy)');
  }

  /** Every decorator naming a class or tier `policy` does not define: start-up fails on them, a reload is refused. */
  issuesFor(policy: CompiledPolicy): PolicyIssue[] {
    const issues: PolicyIssue[] = [];
    for (const { target, where } of controllerTargets(this.discovery, this.scanner)) this.check(policy, target, where, issues);
    return issues;
  }

  private check(policy: CompiledPolicy, target: Function, where: string, issues: PolicyIssue[]): void {
    const trafficClass = this.reflector.get(TrafficClass, target);
    if (trafficClass !== undefined && !policy.classes.has(trafficClass)) {
      issues.push({ path: `@TrafficClass on ${where}`, message: `unknown traffic class "${trafficClass}" (defined: ${[...policy.classes.keys()].join(', ')})` });
    }
    const floor = this.reflector.get(QualityFloor, target);
    if (floor?.tier !== undefined && !policy.tiers.includes(floor.tier)) {
      issues.push({ path: `@QualityFloor on ${where}`, message: `unknown tier "${floor.tier}" (tiers: ${policy.tiers.join(' > ')})` });
    }
  }
}
