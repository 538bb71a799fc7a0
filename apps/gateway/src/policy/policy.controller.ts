import { Body, Controller, Get, Put, Query } from '@nestjs/common';
import { LlmRouter } from '@llm-router/nestjs';
import type { Principal } from '../auth/key-scope.js';
import { CurrentPrincipal } from '../auth/principal.decorator.js';
import { invalid } from '../errors/invalid-value.js';
import { candidateText } from './policy-candidate.js';
import { PolicyReloadService } from './policy-reload.service.js';
import { policyRefusal } from './policy-refusal.js';
import { tenantPolicyView } from './tenant-policy-view.js';

const HISTORY_LIMIT = 500;

@Controller()
export class PolicyController {
  constructor(
    private readonly router: LlmRouter,
    private readonly reload: PolicyReloadService,
  ) {}

  /** The effective routing policy, every default filled in, as far as the caller's key reaches (all of it with authentication disabled). */
  @Get('v1/policy')
  policy(@CurrentPrincipal() principal: Principal | null) {
    const described = this.router.effectivePolicy();
    return principal === null || principal.keyId === null ? described : tenantPolicyView(described, principal.scope);
  }

  /** The whole effective policy, for the operator (admin credential), with its version. */
  @Get('admin/policy')
  adminPolicy() {
    return { version: this.router.policyVersion.id, ...this.router.effectivePolicy() };
  }

  /**
   * A new policy for every instance: JSON (`application/json`) or YAML
   * (`application/yaml`), validated whole before anything changes; a 400
   * lists every problem.
   */
  @Put('admin/policy')
  async replacePolicy(@Body() body: unknown) {
    const candidate = candidateText(body);
    try {
      const result = await this.reload.apply({ ...candidate, source: 'admin', actor: 'admin' });
      return { changed: result.changed, version: result.version.id, ...(result.changes ? { changes: result.changes } : {}) };
    } catch (err) {
      throw policyRefusal(err);
    }
  }

  /** Who changed the policy, when, and what changed; newest first. */
  @Get('admin/policy/history')
  async history(@Query('limit') limit?: string) {
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > HISTORY_LIMIT) throw invalid(`limit must be an integer from 1 to ${HISTORY_LIMIT}.`, 'limit');
    const versions = await this.reload.history(n);
    return {
      current: this.router.policyVersion.id,
      data: versions.map((v) => ({
        version: `${v.seq}-${v.hash}`,
        seq: v.seq,
        hash: v.hash,
        source: v.source,
        actor: v.actor,
        appliedAt: new Date(v.appliedAt).toISOString(),
        changes: JSON.parse(v.changes) as unknown,
      })),
    };
  }
}
