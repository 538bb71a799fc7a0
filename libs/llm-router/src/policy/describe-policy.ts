import type { CompiledPolicy } from './compiled-policy.js';

/** The effective policy, defaults filled in, as plain JSON a user can read. */
export function describePolicy(policy: CompiledPolicy): Record<string, unknown> {
  return {
    tiers: policy.tiers,
    defaultClass: policy.defaultClass,
    circuit: policy.circuit,
    budgets: { defaults: policy.budgets.defaults, tenants: Object.keys(policy.budgets.tenants), webhookUrl: policy.budgets.webhookUrl ?? null },
    providers: Object.fromEntries(
      [...policy.providers.values()].map((p) => [
        p.name,
        { kind: p.kind, baseUrl: p.baseUrl, apiKeyEnv: p.apiKeyEnv ?? null, timeouts: p.timeouts, maxSockets: p.maxSockets },
      ]),
    ),
    models: Object.fromEntries(
      [...policy.models.values()].map((m) => [
        m.name,
        {
          provider: m.provider.name,
          upstreamModel: m.upstreamModel,
          tier: m.tier,
          capabilities: [...m.capabilities],
          contextWindow: m.contextWindow,
          maxOutputTokens: m.maxOutputTokens ?? null,
          tokenizer: m.tokenizer ?? null,
          price: m.price,
        },
      ]),
    ),
    classes: Object.fromEntries(
      [...policy.classes.values()].map((c) => [
        c.name,
        {
          criticality: c.criticality,
          route: c.route.map((m) => m.name),
          qualityFloor: c.qualityFloor ?? null,
          retriesPerTarget: c.retriesPerTarget,
          maxAttempts: c.maxAttempts,
          fallback: c.fallback,
          equivalentQualityOnly: c.equivalentQualityOnly,
          switchOnContentFilter: c.switchOnContentFilter,
          attemptTimeoutMs: c.attemptTimeoutMs,
          firstByteTimeoutMs: c.firstByteTimeoutMs,
          deadlineMs: c.deadlineMs,
          maxCostPerRequestUsd: c.maxCostPerRequestUsd ?? null,
          backoff: c.backoff,
          onExhausted: c.onExhausted,
          deferDeadlineMs: c.deferDeadlineMs,
          deferBackoff: c.deferBackoff,
          downgradeRoute: c.downgradeRoute.map((m) => m.name),
          onBudgetStoreUnavailable: c.onBudgetStoreUnavailable,
        },
      ]),
    ),
  };
}
