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
  /**
   * A session turn: the target its previous turn used (first among the
   * candidates when it may serve), and why it may not when it may not.
   */
  readonly sessionTarget?: SessionTarget;
  /**
   * A session turn's history is checked against each target's context window
   * at its attempt (not at planning): refused there as `context_length`, or
   * trimmed to fit, by the class's `session.onContextOverflow`.
   */
  readonly contextFit?: 'refuse' | 'trim';
  /** The version of the policy that made the plan (`<seq>-<hash>`), when the planner was given one. */
  readonly policyVersion?: string;
}

/** Where a session turn is pinned. */
export interface SessionTarget {
  readonly target: string;
  /** Why the pinned target cannot serve this turn (ruled out by the plan): the session moves. */
  readonly unavailable?: string;
  /** The session goes back to its original target on this turn, and why. */
  readonly returning?: string;
}
