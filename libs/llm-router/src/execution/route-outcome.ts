import type { BudgetSnapshot } from '../budget/budget.types.js';
import type { Exclusion } from '../errors/llm-router.error.js';
import type { SessionMove } from '../telemetry/routing-record.js';
import type { AttemptOutput } from './routed-event.js';

/** Which target served a routed call: sent back with every completion and chunk. */
export interface RouteOutcome {
  readonly requestId: string;
  readonly trafficClass: string;
  readonly model: string;
  readonly provider: string;
  readonly upstreamModel: string;
  /** Served by a target other than the first planned candidate. */
  readonly fallback: boolean;
  /** Upstream calls made, the serving one included. */
  readonly attempts: number;
  /** The tenant's budget when the call was planned; absent for tenants without a budget. */
  readonly budget?: BudgetSnapshot;
  /** The model the request named, when the planner left it out (and why): another model serves. */
  readonly requestedModelExcluded?: Exclusion;
  /** On the turn where a session moved to another target: from which, and why. */
  readonly sessionMoved?: SessionMove;
  /** The policy the call was planned under (`<seq>-<hash>`). */
  readonly policyVersion?: string;
}


export interface RoutedOutput {
  readonly output: AttemptOutput;
  readonly outcome: RouteOutcome;
  /** A completion's cost as its routing record books it, when the provider reported usage (streams: absent). */
  readonly costUsd?: number;
}
