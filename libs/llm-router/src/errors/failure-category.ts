/**
 * Every failure is mapped to exactly one category before anything is retried.
 * The table below is the single place that says what each category allows.
 */
export type FailureCategory =
  | 'rate_limited'
  | 'transient'
  | 'provider_misconfigured'
  | 'upstream_quota'
  | 'invalid_request'
  | 'context_length'
  | 'content_filtered'
  | 'stream_interrupted'
  | 'deadline_exceeded'
  | 'quality_floor_unmet'
  | 'no_route'
  | 'circuit_open'
  | 'cost_ceiling_exceeded'
  | 'budget_exhausted'
  | 'budget_reservation_denied'
  | 'budget_unavailable';

export interface CategoryRule {
  /** May the same target be tried again? */
  readonly retrySame: boolean;
  /** May the router move on to the next candidate? */
  readonly switchTarget: 'yes' | 'no' | 'larger_context' | 'if_class_allows';
  /** Does this failure count against the target's circuit? */
  readonly tripsCircuit: boolean;
  /** Open the target's circuit at once: it cannot serve anyone until probed. */
  readonly markUnhealthy: boolean;
}

export const CATEGORY_RULES: Readonly<Record<FailureCategory, CategoryRule>> = {
  rate_limited: { retrySame: true, switchTarget: 'yes', tripsCircuit: true, markUnhealthy: false },
  transient: { retrySame: true, switchTarget: 'yes', tripsCircuit: true, markUnhealthy: false },
  provider_misconfigured: { retrySame: false, switchTarget: 'yes', tripsCircuit: true, markUnhealthy: true },
  upstream_quota: { retrySame: false, switchTarget: 'yes', tripsCircuit: true, markUnhealthy: true },
  invalid_request: { retrySame: false, switchTarget: 'no', tripsCircuit: false, markUnhealthy: false },
  context_length: { retrySame: false, switchTarget: 'larger_context', tripsCircuit: false, markUnhealthy: false },
  content_filtered: { retrySame: false, switchTarget: 'if_class_allows', tripsCircuit: false, markUnhealthy: false },
  // A stream cut after content reached the caller: never retried, never spliced.
  stream_interrupted: { retrySame: false, switchTarget: 'no', tripsCircuit: true, markUnhealthy: false },
  deadline_exceeded: { retrySame: false, switchTarget: 'no', tripsCircuit: false, markUnhealthy: false },
  quality_floor_unmet: { retrySame: false, switchTarget: 'no', tripsCircuit: false, markUnhealthy: false },
  no_route: { retrySame: false, switchTarget: 'no', tripsCircuit: false, markUnhealthy: false },
  circuit_open: { retrySame: false, switchTarget: 'yes', tripsCircuit: false, markUnhealthy: false },
  cost_ceiling_exceeded: { retrySame: false, switchTarget: 'yes', tripsCircuit: false, markUnhealthy: false },
  budget_exhausted: { retrySame: false, switchTarget: 'no', tripsCircuit: false, markUnhealthy: false },
  // This target's worst case does not fit what is left: a cheaper candidate may.
  budget_reservation_denied: { retrySame: false, switchTarget: 'yes', tripsCircuit: false, markUnhealthy: false },
  budget_unavailable: { retrySame: false, switchTarget: 'no', tripsCircuit: false, markUnhealthy: false },
};
