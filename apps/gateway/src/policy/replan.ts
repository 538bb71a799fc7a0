import { LlmRouterError, requestWithNeeds, type CompiledModel, type PolicyGeneration, type RecordedNeeds, type RoutingRecord } from '@llm-router/nestjs';
import type { Scope } from '../auth/key-scope.js';
import type { StoredRecord } from '../store/gateway-store.js';

/** What a recorded call says about its planning: the input to plan it again, and the plan it got. */
export interface RecordedCall {
  readonly requestId: string;
  readonly startedAt: string;
  readonly trafficClass: string;
  readonly stream: boolean;
  readonly requestedModel?: string;
  readonly needs?: RecordedNeeds;
  /** The route it was planned (empty when planning or the budget refused it). */
  readonly plannedRoute: readonly string[];
  /** Why it was refused before any call, if it was. */
  readonly refusedBefore?: string;
  /** The tenant's budget tier when it was planned, if it has a budget; the cheaper route was taken. */
  readonly budgetTier?: string;
  readonly downgraded: boolean;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number;
  /** The API key that made it, when one did (its scope is checked under the candidate). */
  readonly keyId?: string;
}

/** The plan a policy makes for a recorded call. */
export type Replanned = { readonly route: readonly string[] } | { readonly refused: { readonly category: string; readonly code?: string; readonly message: string } };

export type Divergence = 'same' | 'route_changed' | 'primary_changed' | 'now_refused' | 'now_served' | 'still_refused' | 'not_replayable';

/** A count per kind of divergence, all zero. */
export function noDivergences(): Record<Divergence, number> {
  return { same: 0, route_changed: 0, primary_changed: 0, now_refused: 0, now_served: 0, still_refused: 0, not_replayable: 0 };
}

/** Failures that end a call before any target is tried: the plan (and its budget) refused it. */
const REFUSED_BEFORE_ANY_CALL = new Set(['quality_floor_unmet', 'invalid_request', 'context_length', 'budget_exhausted', 'budget_unavailable']);

export function recordedFromStored(row: StoredRecord): RecordedCall {
  let detail: { plannedRoute?: string[]; requestedModel?: string; needs?: RecordedNeeds } = {};
  try {
    detail = JSON.parse(row.detail) as typeof detail;
  } catch {
    // A row from before the detail was JSON: no needs, not replayable.
  }
  const plannedRoute = detail.plannedRoute ?? [];
  return {
    requestId: row.requestId,
    startedAt: new Date(row.startedAt).toISOString(),
    trafficClass: row.trafficClass,
    stream: row.stream,
    ...(detail.requestedModel !== undefined ? { requestedModel: detail.requestedModel } : {}),
    ...(detail.needs !== undefined ? { needs: detail.needs } : {}),
    plannedRoute,
    ...(refusedBefore(row.outcome, plannedRoute, row.errorCategory) ? { refusedBefore: row.errorCategory! } : {}),
    ...(row.budgetTier !== null ? { budgetTier: row.budgetTier } : {}),
    downgraded: row.budgetAction?.includes('downgraded to the cheaper route') === true,
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    costUsd: row.costUsd,
    ...(row.keyId !== null ? { keyId: row.keyId } : {}),
  };
}

export function recordedFromRecord(r: RoutingRecord): RecordedCall {
  return {
    requestId: r.requestId,
    startedAt: r.startedAt,
    trafficClass: r.trafficClass,
    stream: r.stream,
    ...(r.requestedModel !== undefined ? { requestedModel: r.requestedModel } : {}),
    ...(r.needs !== undefined ? { needs: r.needs } : {}),
    plannedRoute: r.plannedRoute,
    ...(refusedBefore(r.outcome, r.plannedRoute, r.errorCategory ?? null) ? { refusedBefore: r.errorCategory! } : {}),
    ...(r.budget ? { budgetTier: r.budget.tier } : {}),
    downgraded: r.budget?.action?.includes('downgraded to the cheaper route') === true,
    promptTokens: r.promptTokens,
    completionTokens: r.completionTokens,
    costUsd: r.costUsd,
  };
}

function refusedBefore(outcome: string, plannedRoute: readonly string[], category: string | null): boolean {
  return outcome === 'failure' && plannedRoute.length === 0 && category !== null && REFUSED_BEFORE_ANY_CALL.has(category);
}

/**
 * Plan a recorded call under `generation` with its planner: a stand-in
 * request with the recorded needs, the same class and requested model, the
 * cheaper route when the tenant's tier took it. A budget refusal stays a
 * refusal (the spend is the same whatever the policy). Undefined when the
 * record kept no needs (written before they were recorded).
 */
export function replan(generation: PolicyGeneration, call: RecordedCall, scope?: Scope): Replanned | undefined {
  if (call.refusedBefore === 'budget_exhausted' || call.refusedBefore === 'budget_unavailable') {
    return { refused: { category: call.refusedBefore, message: 'refused by the tenant budget, whatever the policy' } };
  }
  if (call.needs === undefined) return undefined;
  // The key's scope under the candidate: a class it may no longer use (a route now reaching a model outside the key) is refused first, as the call would be.
  if (scope !== undefined && !scope.classes.has(call.trafficClass)) {
    return { refused: { category: 'key_scope', code: 'traffic_class_not_allowed', message: `the API key ${call.keyId} may not use the class "${call.trafficClass}" under this policy` } };
  }
  if (scope !== undefined && call.requestedModel !== undefined && !scope.models.has(call.requestedModel)) {
    return { refused: { category: 'key_scope', code: 'model_not_allowed', message: `the API key ${call.keyId} may not use the model "${call.requestedModel}" under this policy` } };
  }
  const request = requestWithNeeds(call.needs, call.requestedModel);
  try {
    const cls = generation.planner.resolveClass(call.trafficClass);
    const tierDowngrades = call.budgetTier === 'downgrade' || call.budgetTier === 'restricted';
    const downgrade = call.downgraded || (tierDowngrades && generation.policy.budgets.defaults.downgradeCriticalities.includes(cls.criticality));
    return { route: generation.planner.plan(request, cls.name, undefined, downgrade).candidates.map((m) => m.name) };
  } catch (err) {
    if (!(err instanceof LlmRouterError)) throw err;
    return { refused: { category: err.category, ...(err.code ? { code: err.code } : {}), message: err.message } };
  }
}

/** How a new plan differs from the recorded one. */
export function divergence(call: RecordedCall, after: Replanned | undefined): Divergence {
  if (after === undefined) return 'not_replayable';
  const before = call.plannedRoute;
  if ('refused' in after) return before.length === 0 ? 'still_refused' : 'now_refused';
  if (before.length === 0) return call.refusedBefore !== undefined ? 'now_served' : 'same';
  if (before[0] !== after.route[0]) return 'primary_changed';
  return before.join() === after.route.join() ? 'same' : 'route_changed';
}

/** A recorded call's cost had its tokens been served by `model` (the primary of the new plan). */
export function costOn(model: CompiledModel | undefined, call: RecordedCall): number {
  if (model === undefined) return 0;
  const prompt = call.promptTokens > 0 ? call.promptTokens : (call.needs?.estimatedPromptTokens ?? 0);
  return (prompt * model.price.inputPerMTok + call.completionTokens * model.price.outputPerMTok) / 1e6;
}
