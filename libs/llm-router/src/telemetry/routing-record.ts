import type { FailureCategory } from '../errors/failure-category.js';
import type { BudgetSnapshot } from '../budget/budget.types.js';
import type { Exclusion } from '../errors/llm-router.error.js';
import type { Criticality, QualityFloorSpec } from '../policy/policy.schema.js';
import type { RecordedNeeds } from '../planning/request-with-needs.js';

/** One try against one target, or one target skipped without a call. */
export interface AttemptRecord {
  readonly model: string;
  readonly provider: string;
  readonly outcome: 'success' | 'failure' | 'skipped' | 'aborted';
  readonly category?: FailureCategory;
  readonly status?: number;
  readonly code?: string;
  readonly message?: string;
  readonly latencyMs: number;
  /** The wait before this attempt (backoff or Retry-After). */
  readonly waitedMs?: number;
  /** What the router changed in the conversation for this target: turns trimmed to fit its window, provider-specific state dropped, tool ids rewritten. */
  readonly notes?: readonly string[];
}

/** A session moved to another target on this call, and why. */
export interface SessionMove {
  readonly from: string;
  readonly to: string;
  readonly reason: string;
}

/** Everything about one routed call, successful or not: the audit trail. */
export interface RoutingRecord {
  readonly requestId: string;
  readonly startedAt: string;
  /**
   * The same instant as `startedAt`, in milliseconds since the epoch (with a
   * fraction under a virtual clock, where `startedAt` is rounded to the
   * millisecond): a store that keeps the start as a whole number takes it as it
   * is instead of parsing the text back (set on every record the router makes;
   * absent on records made before it was added).
   */
  readonly startedAtMs?: number;
  readonly tenant?: string;
  readonly feature?: string;
  readonly session?: string;
  /** The routing context's labels, as the caller set them. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly trafficClass: string;
  readonly criticality?: Criticality;
  readonly qualityFloor?: QualityFloorSpec;
  readonly stream: boolean;
  /** The catalog model the request named as its `model`; when the planner left it out, its exclusion says `requested: true`. */
  readonly requestedModel?: string;
  readonly plannedRoute: readonly string[];
  readonly excluded: readonly Exclusion[];
  readonly attempts: readonly AttemptRecord[];
  readonly servedBy?: { readonly model: string; readonly provider: string; readonly upstreamModel: string };
  readonly fallback: boolean;
  readonly outcome: 'success' | 'failure' | 'aborted';
  readonly errorCategory?: FailureCategory;
  readonly errorMessage?: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** True when the provider reported no usage and tokens were counted by the router. */
  readonly usageEstimated: boolean;
  readonly costUsd: number;
  readonly latencyMs: number;
  /** Streams: time to the first content chunk. */
  readonly firstChunkMs?: number;
  /** The tenant's budget tier and what it changed; absent for tenants without a budget. */
  readonly budget?: BudgetSnapshot;
  /** A session turn with affinity: the target the session's previous turn used. */
  readonly sessionTarget?: string;
  /** Set on the turn where the session moved to another target. */
  readonly sessionMove?: SessionMove;
  /** The policy the call ran under (`<seq>-<hash>`): a call started before a reload finishes under the old one. */
  readonly policyVersion?: string;
  /** What routing read of the request (capabilities, prompt estimate, output limit): enough to plan it again (simulate, shadow). */
  readonly needs?: RecordedNeeds;
}
