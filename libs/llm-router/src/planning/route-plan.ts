import type { Exclusion } from '../errors/llm-router.error.js';
import type { CompiledClass, CompiledModel } from '../policy/compiled-policy.js';
import type { QualityFloorSpec } from '../policy/policy.schema.js';
import type { PromptEstimate } from './prompt-estimate.js';
import type { RequestNeeds } from './request-needs.js';

/** The ordered targets one request may use, and the ones it may not. */
export interface RoutePlan {
  readonly trafficClass: CompiledClass;
  readonly floor: QualityFloorSpec | undefined;
  readonly needs: RequestNeeds;
  /** The prompt's size per model, by its tokenizer where one is known: what reservations and cost ceilings price. */
  readonly prompt: PromptEstimate;
  readonly candidates: readonly CompiledModel[];
  readonly excluded: readonly Exclusion[];
  /** The catalog model the request named as its `model`, if any. */
  readonly requestedModel?: string;
  /** Its exclusion, when the planner left it out: the call is served by another model. */
  readonly requestedExclusion?: Exclusion;
  /** When the tenant's budget tier asked for the cheaper route: whether it was taken or the floor kept the route. */
  readonly downgrade?: 'taken' | 'blocked_by_floor';
  /** The version of the policy that made the plan (`<seq>-<hash>`), when the planner was given one. */
  readonly policyVersion?: string;
}
