import { Controller, Get } from '@nestjs/common';
import { LlmRouter } from '@llm-router/nestjs';
import type { Principal } from '../auth/key-scope.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { tenantPolicyView } from './tenant-policy-view.js';

@Controller()
export class PolicyController {
  constructor(private readonly router: LlmRouter) {}

  /** The effective routing policy, every default filled in, as far as the caller's key reaches (all of it with authentication disabled). */
  @Get('v1/policy')
  policy(@CurrentPrincipal() principal: Principal | null) {
    const described = this.router.effectivePolicy();
    return principal === null || principal.keyId === null ? described : tenantPolicyView(described, principal.scope);
  }

  /** The whole effective policy, for the operator (admin credential). */
  @Get('admin/policy')
  adminPolicy() {
    return this.router.effectivePolicy();
  }
}
