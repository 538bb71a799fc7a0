import type { BudgetAssessment, BudgetService } from '../budget/budget.service.js';
import type { BudgetTier } from '../budget/budget.types.js';
import { microsToUsd } from '../budget/usd.js';
import { costCeilingBreach, outputAllowance, worstCaseCostMicros } from '../budget/worst-case-cost.js';
import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { CATEGORY_RULES, type FailureCategory } from '../errors/failure-category.js';
import { LlmRouterError } from '../errors/llm-router.error.js';
import type { CircuitStatus } from '../execution/circuit/circuit-state.store.js';
import { mergeFloors } from '../planning/route-planner.js';
import type { RoutePlan } from '../planning/route-plan.js';
import { deriveRequestNeeds } from '../planning/request-needs.js';
import { requestShapeError } from '../planning/request-shape.js';
import type { CompiledClass, CompiledModel } from '../policy/compiled-policy.js';
import type { QualityFloorSpec } from '../policy/policy.schema.js';
import type { PolicyGeneration } from './live-policy.js';
import { explainSession, type ExplainedSession, type SessionToExplain } from './session-explanation.js';

/** Why a model of the route would not be tried. */
export type ExclusionKind =
  | 'quality_floor'
  | 'capability'
  | 'context_window'
  | 'equivalent_quality'
  | 'budget_downgrade'
  | 'circuit_open'
  | 'cost_ceiling'
  | 'budget_reservation';

export interface ExplainedTarget {
  readonly model: string;
  readonly provider: string;
  readonly tier: string;
  readonly kept: boolean;
  readonly excludedBy?: ExclusionKind;
  readonly reason?: string;
  /** The model named as the request's `model`. */
  readonly requested?: true;
  /** What one attempt on it may cost at most (the reservation's figure). */
  readonly worstCaseUsd: number;
  readonly circuit: CircuitStatus | 'unknown';
}

/** A decision the router would refuse, as the call would be answered. */
export interface ExplainedRefusal {
  readonly status: number;
  readonly category: FailureCategory;
  readonly code?: string;
  /** The request's field it names, as OpenAI's `param` (`messages[2].tool_calls[0]`). */
  readonly param?: string;
  readonly message: string;
}

/** Where a routing decision would go, and why, made without calling anyone and without spending. */
export interface RoutingExplanation {
  readonly policyVersion: string;
  readonly trafficClass: { readonly name: string; readonly criticality?: string; readonly source: string };
  readonly qualityFloor: { readonly class: QualityFloorSpec | null; readonly caller: QualityFloorSpec | null; readonly merged: QualityFloorSpec | null };
  readonly needs: {
    readonly tools: boolean;
    /** A custom (free-form) tool offered, chosen or called earlier: only models with `custom_tools` serve it. */
    readonly customTools: boolean;
    readonly vision: boolean;
    readonly json: boolean;
    readonly stream: boolean;
    readonly estimatedPromptTokens: number;
    readonly maxOutputTokens: number | null;
  };
  readonly requestedModel: string | null;
  /** The tenant's budget tier and what it does to this call; null without a budget. */
  readonly budget: { readonly tier: BudgetTier; readonly shareUsed: number; readonly budgetUsd: number; readonly spentUsd: number; readonly effect: string } | null;
  /** Every model of the route, in the order the router would try them, kept or excluded and why. */
  readonly targets: readonly ExplainedTarget[];
  /** The first target the call would be sent to; null when it would be refused. */
  readonly firstTarget: string | null;
  readonly refusal: ExplainedRefusal | null;
  /** What the router does on each failure category, for this class. */
  readonly onFailure: Readonly<Record<string, string>>;
  /** The call's session, when it carries one and its class has affinity: its pin, and whether it holds. */
  readonly session: ExplainedSession | null;
}

/** What an explanation reads: the generation a call would take, and the budgets and circuits as they are. */
export interface ExplainInput {
  readonly generation: PolicyGeneration;
  readonly budgets: BudgetService;
  readonly circuits: ReadonlyMap<string, CircuitStatus>;
  readonly request: ChatCompletionRequest;
  readonly stream: boolean;
  readonly className: string | undefined;
  readonly classSource: string;
  readonly callerFloor: QualityFloorSpec | undefined;
  /** The budget assessment, or the refusal it threw; undefined without a budget. */
  readonly assessment: BudgetAssessment | LlmRouterError | undefined;
  /** The call's session, when the router follows it (a session id and a class with affinity). */
  readonly session?: SessionToExplain;
}

/** The categories a call can meet upstream, in the order a reader looks for them. */
const UPSTREAM_CATEGORIES: readonly FailureCategory[] = [
  'rate_limited',
  'transient',
  'provider_misconfigured',
  'upstream_quota',
  'invalid_request',
  'context_length',
  'content_filtered',
  'stream_interrupted',
  'deadline_exceeded',
];

/**
 * Explain a call with the same planner and the same checks as the executor's
 * admission (open circuit, cost ceiling, budget reservation), in its order,
 * reading state and changing none.
 */
export function explainRoute(input: ExplainInput): RoutingExplanation {
  const { generation, request } = input;
  // A malformed request is refused as a call would be, before anything reads it.
  const malformed = requestShapeError(request);
  if (malformed !== undefined) {
    return { policyVersion: generation.version.id, requestedModel: null, session: null, ...empty(input, input.className ?? generation.policy.defaultClass, false), refusal: refusalOf(malformed) };
  }
  const base = {
    policyVersion: generation.version.id,
    requestedModel: requestedOf(request, generation),
    session: input.session ? explainSession(input.session, undefined, [], null) : null,
  };
  let cls: CompiledClass;
  try {
    cls = generation.planner.resolveClass(input.className);
  } catch (err) {
    return { ...base, ...empty(input, input.className ?? generation.policy.defaultClass), refusal: refusalOf(err) };
  }
  const head = {
    ...base,
    trafficClass: { name: cls.name, criticality: cls.criticality, source: input.classSource },
    qualityFloor: {
      class: cls.qualityFloor ?? null,
      caller: input.callerFloor ?? null,
      merged: mergeFloors(cls.qualityFloor, input.callerFloor, generation.policy) ?? null,
    },
    onFailure: onFailure(cls),
  };
  const assessment = input.assessment instanceof LlmRouterError ? undefined : input.assessment;
  const budget = assessment?.snapshot
    ? { ...assessment.snapshot, effect: assessment.downgrade ? "the class's cheaper route (downgrade tier)" : 'none: the route as planned' }
    : null;
  if (input.assessment instanceof LlmRouterError) {
    return { ...head, needs: needsOf(input, undefined), budget, targets: [], firstTarget: null, refusal: refusalOf(input.assessment) };
  }
  let plan: RoutePlan;
  try {
    plan = generation.planner.plan(request, cls.name, input.callerFloor, assessment?.downgrade ?? false, input.session?.contextFit);
  } catch (err) {
    const excluded = err instanceof LlmRouterError ? (err.excluded ?? []) : [];
    const targets = excluded.map((e) => target(generation.policy.models.get(e.model)!, input, undefined, { kind: kindOf(e.reason), reason: e.reason, requested: e.requested === true }));
    return { ...head, needs: needsOf(input, undefined), budget, targets, firstTarget: null, refusal: refusalOf(err) };
  }
  if (input.session) plan = input.session.pin(plan);
  const targets: ExplainedTarget[] = [];
  let first: string | null = null;
  for (const model of plan.candidates) {
    const skipped = admissionRefusal(model, plan, cls, input, assessment);
    targets.push(target(model, input, plan, skipped ? { ...skipped, requested: model.name === plan.requestedModel } : { requested: model.name === plan.requestedModel }));
    if (!skipped && first === null) first = model.name;
  }
  for (const e of plan.excluded) {
    const model = generation.policy.models.get(e.model)!;
    targets.push(target(model, input, plan, { kind: kindOf(e.reason), reason: e.reason, requested: e.requested === true }));
  }
  const withBudget = budget && plan.downgrade === 'blocked_by_floor' ? { ...budget, effect: 'downgrade blocked by the quality floor: route kept' } : budget;
  return {
    ...head,
    needs: needsOf(input, plan),
    budget: withBudget,
    targets,
    firstTarget: first,
    session: input.session ? explainSession(input.session, plan, targets, first) : null,
    refusal: first === null ? { status: 503, category: 'no_route', message: 'Every candidate would be skipped before a call: see each target.' } : null,
  };
}

/** The executor's admission checks, in its order, without reserving anything. */
function admissionRefusal(model: CompiledModel, plan: RoutePlan, cls: CompiledClass, input: ExplainInput, assessment: BudgetAssessment | undefined): { kind: ExclusionKind; reason: string } | undefined {
  if (input.circuits.get(model.name) === 'open') return { kind: 'circuit_open', reason: `${model.name}: circuit open, would be skipped without a call` };
  const breach = costCeilingBreach(model, plan, cls);
  if (breach !== undefined) return { kind: 'cost_ceiling', reason: breach };
  if (assessment !== undefined) {
    const refused = input.budgets.wouldRefuse(assessment, worstCase(model, plan, input.budgets));
    if (refused !== undefined) return { kind: 'budget_reservation', reason: refused };
  }
  return undefined;
}

function worstCase(model: CompiledModel, plan: RoutePlan, budgets: BudgetService): number {
  return worstCaseCostMicros(model, plan.needs, plan.prompt.tokensFor(model), budgets.calibration.correction(model.name));
}

function target(model: CompiledModel, input: ExplainInput, plan: RoutePlan | undefined, how: { kind?: ExclusionKind; reason?: string; requested: boolean }): ExplainedTarget {
  const worst = plan ? worstCase(model, plan, input.budgets) : worstCaseCostMicros(model, { capabilities: [], estimatedPromptTokens: 0 });
  return {
    model: model.name,
    provider: model.provider.name,
    tier: model.tier,
    kept: how.kind === undefined,
    ...(how.kind !== undefined ? { excludedBy: how.kind, reason: how.reason } : {}),
    ...(how.requested ? { requested: true as const } : {}),
    worstCaseUsd: microsToUsd(worst),
    circuit: input.circuits.get(model.name) ?? 'unknown',
  };
}

/** The planner's exclusion, by the words its reason is written in. */
function kindOf(reason: string): ExclusionKind {
  if (/budget tier took/.test(reason)) return 'budget_downgrade';
  if (/switches only to equivalent quality/.test(reason)) return 'equivalent_quality';
  if (/below the quality floor/.test(reason)) return 'quality_floor';
  if (/capability/.test(reason)) return 'capability';
  return 'context_window';
}

/** `readable`: the request passed the shape check (a malformed one's needs are not read). */
function needsOf(input: ExplainInput, plan: RoutePlan | undefined, readable = true): RoutingExplanation['needs'] {
  // A refusal has no plan: the needs are read from the request itself, so an exclusion for a capability shows what asked for it.
  const caps = plan?.needs.capabilities ?? (readable ? deriveRequestNeeds(input.request).capabilities : []);
  return {
    tools: caps.includes('tools'),
    customTools: caps.includes('custom_tools'),
    vision: caps.includes('vision'),
    json: caps.includes('json'),
    stream: input.stream,
    estimatedPromptTokens: plan?.needs.estimatedPromptTokens ?? 0,
    maxOutputTokens: plan ? (plan.needs.requestedMaxOutputTokens ?? (plan.candidates[0] ? outputAllowance(plan.candidates[0], plan.needs) : null)) : null,
  };
}

function requestedOf(request: ChatCompletionRequest, generation: PolicyGeneration): string | null {
  return request.model !== undefined && generation.policy.models.has(request.model) ? request.model : null;
}

function empty(input: ExplainInput, name: string, readable = true): Omit<RoutingExplanation, 'policyVersion' | 'requestedModel' | 'refusal' | 'session'> {
  return {
    trafficClass: { name, source: input.classSource },
    qualityFloor: { class: null, caller: input.callerFloor ?? null, merged: input.callerFloor ?? null },
    needs: needsOf(input, undefined, readable),
    budget: null,
    targets: [],
    firstTarget: null,
    onFailure: {},
  };
}

function refusalOf(err: unknown): ExplainedRefusal {
  if (err instanceof LlmRouterError) {
    return { status: err.httpStatus, category: err.category, ...(err.code ? { code: err.code } : {}), ...(err.param !== null ? { param: err.param } : {}), message: err.message };
  }
  throw err;
}

/** The category table read for one class: retries, switches, their limits. */
function onFailure(cls: CompiledClass): Record<string, string> {
  const limits = `at most ${cls.maxAttempts} attempts within ${cls.deadlineMs} ms`;
  const next = cls.fallback
    ? `switch to the next candidate${cls.equivalentQualityOnly ? ' (equivalent quality only)' : ''}`
    : 'fail: the class has no fallback';
  const out: Record<string, string> = {};
  for (const category of UPSTREAM_CATEGORIES) {
    const rule = CATEGORY_RULES[category];
    const retry = rule.retrySame && cls.retriesPerTarget > 0 ? `retry the same target up to ${cls.retriesPerTarget} time(s) (backoff ${cls.backoff.baseMs}-${cls.backoff.maxMs} ms, Retry-After honoured when it fits the deadline), then ` : '';
    const move =
      rule.switchTarget === 'yes'
        ? next
        : rule.switchTarget === 'larger_context'
          ? cls.fallback ? 'switch only to a candidate with a larger context window' : 'fail'
          : rule.switchTarget === 'if_class_allows'
            ? cls.switchOnContentFilter && cls.fallback ? next : 'fail: the class does not switch on a content filter'
            : 'fail at once';
    const circuit = rule.markUnhealthy ? '; the target\'s circuit opens at once' : rule.tripsCircuit ? '; counts against the target\'s circuit' : '';
    out[category] = `${retry}${move}${circuit}; ${limits}`;
  }
  return out;
}
