import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { LlmRouterError, type Exclusion } from '../errors/llm-router.error.js';
import { blendedPrice } from '../policy/compile-policy.js';
import type { CompiledClass, CompiledModel, CompiledPolicy } from '../policy/compiled-policy.js';
import type { Capability, QualityFloorSpec } from '../policy/policy.schema.js';
import { deriveRequestNeeds, type RequestNeeds } from './request-needs.js';
import { PromptEstimate } from './prompt-estimate.js';
import type { RoutePlan } from './route-plan.js';
import { TokenCounter } from './token-counter.js';

/**
 * Turns (request, class, floor) into an ordered candidate list. No I/O, no
 * circuit state (the executor skips open circuits at attempt time); the plan's
 * prompt is counted by a model's tokenizer only when something prices it.
 */
export class RoutePlanner {
  /**
   * @param tokens counts prompts with the tokenizers of the policy's model
   *   families, off the event loop (its thread starts on first use).
   */
  constructor(
    private readonly policy: CompiledPolicy,
    private readonly tokens: TokenCounter = new TokenCounter(),
    /** Stamped on every plan: the record and the response say which policy routed the call. */
    private readonly policyVersion?: string,
  ) {}

  /** Stops the tokenizer thread, if one was started. */
  close(): void {
    this.tokens.close();
  }

  /**
   * @param downgrade the tenant's budget tier asks for the class's cheaper route;
   *   never below the floor: when the floor rules the cheaper route out, the route stays.
   */
  /**
   * @param contextFit a session turn: context windows are checked per attempt
   *   (refused or trimmed there), not here.
   */
  plan(
    request: ChatCompletionRequest,
    className: string | undefined,
    callerFloor: QualityFloorSpec | undefined,
    downgrade = false,
    contextFit?: 'refuse' | 'trim',
  ): RoutePlan {
    return this.planRoute(request, className, callerFloor, downgrade, contextFit);
  }

  private planRoute(
    request: ChatCompletionRequest,
    className: string | undefined,
    callerFloor: QualityFloorSpec | undefined,
    downgrade: boolean,
    contextFit: 'refuse' | 'trim' | undefined,
  ): RoutePlan {
    const trafficClass = this.resolveClass(className);
    const floor = mergeFloors(trafficClass.qualityFloor, callerFloor, this.policy);
    const needs = deriveRequestNeeds(request);
    // A session turn's windows are checked at each attempt: no model is left out here for the history's size.
    const checkWindow = contextFit === undefined;
    const prompt = new PromptEstimate(request, needs, this.tokens);
    const pinned = this.requestedModel(trafficClass, request.model);
    const selected = this.select(this.orderRoute(trafficClass, pinned), trafficClass, floor, needs, pinned, checkWindow);
    let downgraded: RoutePlan['downgrade'];
    if (downgrade) {
      const cheaper = this.select(trafficClass.downgradeRoute, trafficClass, floor, needs, pinned, checkWindow);
      const first = cheaper.candidates[0];
      const normalFirst = selected.candidates[0];
      // The downgrade only counts when the floor leaves something cheaper than the normal primary.
      if (first && (!normalFirst || blendedPrice(first) < blendedPrice(normalFirst))) {
        // A requested model off the cheaper route is left out by the downgrade: said, not dropped silently.
        const excluded =
          pinned && !cheaper.candidates.includes(pinned) && !cheaper.excluded.some((e) => e.requested)
            ? [...cheaper.excluded, { model: pinned.name, reason: "the tenant's budget tier took the class's cheaper route", requested: true as const }]
            : cheaper.excluded;
        return this.planned({ trafficClass, floor, needs, prompt, candidates: cheaper.candidates, excluded, downgrade: 'taken' }, pinned, contextFit);
      }
      downgraded = 'blocked_by_floor';
    }
    if (selected.candidates.length > 0) {
      return this.planned({ trafficClass, floor, needs, prompt, candidates: selected.candidates, excluded: selected.excluded, downgrade: downgraded }, pinned, contextFit);
    }
    const excluded = selected.excluded;
    if (selected.floorExclusions === 0) {
      throw new LlmRouterError({
        category: 'context_length',
        code: 'context_length_exceeded',
        httpStatus: 400,
        origin: 'gateway',
        param: 'messages',
        message: `The request (about ${needs.estimatedPromptTokens} prompt tokens) does not fit the context window of any model on the "${trafficClass.name}" route.`,
        excluded,
      });
    }
    throw new LlmRouterError({
      category: 'quality_floor_unmet',
      httpStatus: 422,
      origin: 'gateway',
      message: `No model on the "${trafficClass.name}" route meets the quality floor and the request's needs: ${excluded.map((e) => `${e.model} (${e.reason})`).join('; ')}.`,
      excluded,
    });
  }

  /**
   * The plan, with its version, the requested model and its exclusion when
   * there is one, and the session's context fit. Built by assignment in one
   * object, fields absent rather than undefined (as spreads of optional parts
   * left them): this runs on every call, and each spread cost a copy.
   */
  private planned(
    parts: Pick<RoutePlan, 'trafficClass' | 'floor' | 'needs' | 'prompt' | 'candidates' | 'excluded' | 'downgrade'>,
    pinned: CompiledModel | undefined,
    contextFit: 'refuse' | 'trim' | undefined,
  ): RoutePlan {
    const plan: { -readonly [K in keyof RoutePlan]: RoutePlan[K] } = {
      trafficClass: parts.trafficClass,
      floor: parts.floor,
      needs: parts.needs,
      prompt: parts.prompt,
      candidates: parts.candidates,
      excluded: parts.excluded,
    };
    if (parts.downgrade !== undefined) plan.downgrade = parts.downgrade;
    if (this.policyVersion !== undefined) plan.policyVersion = this.policyVersion;
    if (pinned) {
      plan.requestedModel = pinned.name;
      const requestedExclusion = parts.excluded.find((e) => e.requested);
      if (requestedExclusion) plan.requestedExclusion = requestedExclusion;
    }
    if (contextFit !== undefined) plan.contextFit = contextFit;
    return plan;
  }

  private select(
    ordered: readonly CompiledModel[],
    trafficClass: CompiledClass,
    floor: QualityFloorSpec | undefined,
    needs: RequestNeeds,
    pinned: CompiledModel | undefined,
    checkWindow: boolean,
  ): { candidates: readonly CompiledModel[]; excluded: Exclusion[]; floorExclusions: number } {
    const primary = ordered[0]!;
    const floorRank = floor?.tier === undefined ? Infinity : this.policy.tiers.indexOf(floor.tier);
    const candidates: CompiledModel[] = [];
    const excluded: Exclusion[] = [];
    let floorExclusions = 0;
    for (const model of ordered) {
      const reason = this.exclusionReason(model, primary, trafficClass, floor, floorRank, needs, checkWindow);
      if (reason === undefined) candidates.push(model);
      else {
        excluded.push(model === pinned ? { model: model.name, reason: reason.text, requested: true } : { model: model.name, reason: reason.text });
        if (reason.floor) floorExclusions++;
      }
    }
    // None left out: the route itself, shared, not a copy a stream's plan would hold for its life (pushed onto from empty, 17 slots).
    return { candidates: excluded.length === 0 ? ordered : candidates, excluded, floorExclusions };
  }

  resolveClass(className: string | undefined): CompiledClass {
    const name = className ?? this.policy.defaultClass;
    const found = this.policy.classes.get(name);
    if (!found) {
      throw new LlmRouterError({
        category: 'invalid_request',
        code: 'unknown_traffic_class',
        httpStatus: 400,
        origin: 'gateway',
        param: 'traffic_class',
        message: `Unknown traffic class "${name}". Defined classes: ${[...this.policy.classes.keys()].join(', ')}.`,
      });
    }
    return found;
  }

  /** The catalog model the request names as its `model`; none for `auto`, the class's own name or nothing. */
  private requestedModel(trafficClass: CompiledClass, requested: string | undefined): CompiledModel | undefined {
    if (requested === undefined || requested === '' || requested === 'auto' || requested === trafficClass.name) return undefined;
    const pinned = this.policy.models.get(requested);
    if (!pinned) {
      throw new LlmRouterError({
        category: 'invalid_request',
        code: 'model_not_found',
        httpStatus: 404,
        origin: 'gateway',
        param: 'model',
        message: `The model "${requested}" is not in the routing catalog. Known models: ${[...this.policy.models.keys()].join(', ')}.`,
      });
    }
    return pinned;
  }

  /** A model named in the request becomes the primary; the class route follows as fallback. */
  private orderRoute(trafficClass: CompiledClass, pinned: CompiledModel | undefined): readonly CompiledModel[] {
    if (!pinned) return trafficClass.route;
    if (!trafficClass.fallback) return [pinned];
    return [pinned, ...trafficClass.route.filter((m) => m !== pinned)];
  }

  private exclusionReason(
    model: CompiledModel,
    primary: CompiledModel,
    trafficClass: CompiledClass,
    floor: QualityFloorSpec | undefined,
    floorRank: number,
    needs: RequestNeeds,
    checkWindow: boolean,
  ): { text: string; floor: boolean } | undefined {
    if (model.tierRank > floorRank) {
      return { text: `tier "${model.tier}" is below the quality floor "${floor!.tier}"`, floor: true };
    }
    const missing = missingCapability(model, floor?.capabilities, needs.capabilities);
    if (missing) return { text: `lacks the "${missing.capability}" capability required by the ${missing.by}`, floor: true };
    if (floor?.minContextWindow !== undefined && model.contextWindow < floor.minContextWindow) {
      return { text: `context window ${model.contextWindow} is below the floor's ${floor.minContextWindow}`, floor: true };
    }
    if (trafficClass.equivalentQualityOnly && model.tierRank > primary.tierRank) {
      return {
        text: `tier "${model.tier}" is below the primary's "${primary.tier}" and class "${trafficClass.name}" switches only to equivalent quality`,
        floor: true,
      };
    }
    const needed = needs.estimatedPromptTokens + (needs.requestedMaxOutputTokens ?? 0);
    if (checkWindow && needed > model.contextWindow) {
      return { text: `context window ${model.contextWindow} is smaller than the request's ~${needed} tokens`, floor: false };
    }
    return undefined;
  }
}

function missingCapability(
  model: CompiledModel,
  floorCaps: readonly Capability[] | undefined,
  requestCaps: readonly Capability[],
): { capability: Capability; by: string } | undefined {
  if (floorCaps) for (const c of floorCaps) if (!model.capabilities.has(c)) return { capability: c, by: 'quality floor' };
  for (const c of requestCaps) if (!model.capabilities.has(c)) return { capability: c, by: 'request' };
  return undefined;
}

/** The stricter of two floors: a caller can raise a class's floor, never lower it. */
export function mergeFloors(
  a: QualityFloorSpec | undefined,
  b: QualityFloorSpec | undefined,
  policy: Pick<CompiledPolicy, 'tiers'>,
): QualityFloorSpec | undefined {
  if (!a) return b;
  if (!b) return a;
  const rank = (t: string | undefined) => (t === undefined ? Infinity : policy.tiers.indexOf(t));
  const caps = [...new Set([...(a.capabilities ?? []), ...(b.capabilities ?? [])])];
  const minContextWindow = Math.max(a.minContextWindow ?? 0, b.minContextWindow ?? 0);
  return {
    tier: rank(a.tier) <= rank(b.tier) ? a.tier : b.tier,
    ...(caps.length > 0 ? { capabilities: caps } : {}),
    ...(minContextWindow > 0 ? { minContextWindow } : {}),
  };
}
