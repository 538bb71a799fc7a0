/**
 * Budget tiers, from the share of the period budget already spent:
 * - normal      below the notice threshold (70 %): full routing and fallback;
 * - notice      70-80 %: normal routing, the tenant is told (event, header);
 * - downgrade   80 % and above: nonessential classes take their cheaper routes;
 * - restricted  95 % and above: batch and background classes are refused;
 * - exhausted   100 %: every class gets an explicit quota-exhausted error.
 */
export type BudgetTier = 'normal' | 'notice' | 'downgrade' | 'restricted' | 'exhausted';

export const BUDGET_TIERS: readonly BudgetTier[] = ['normal', 'notice', 'downgrade', 'restricted', 'exhausted'];

export type BudgetPeriod = 'month' | 'week' | 'day';

/** Thresholds as shares of the period budget (0..1). */
export interface BudgetThresholds {
  readonly notice: number;
  readonly downgrade: number;
  readonly restrict: number;
}

/** A tenant's budget as configured (policy or run-time API). */
export interface TenantBudget {
  /** US dollars per period. */
  readonly budgetUsd: number;
  readonly period: BudgetPeriod;
  /** A daily cap that applies to batch and background classes. */
  readonly dailyCapUsd?: number;
  readonly thresholds: BudgetThresholds;
}

/**
 * A caller's own budget inside its tenant's (an API key's), given per call
 * (`RouteOptions.callerBudget`): reserved, settled and released with the
 * tenant's, in the same ledger step, so concurrent calls cannot overshoot it.
 */
export interface CallerBudget {
  /** Unique within the tenant: the ledger keeps the caller's spend under it. */
  readonly id: string;
  /** US dollars per period. */
  readonly budgetUsd: number;
  readonly period: BudgetPeriod;
  /** How refusals name the caller (`API key k1`); its id otherwise. */
  readonly name?: string;
}

/** What the router knows of a tenant's spend right now. */
export interface BudgetState {
  readonly tenant: string;
  readonly period: BudgetPeriod;
  /** ISO start (inclusive) and end (exclusive) of the current period, UTC. */
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly budgetUsd: number;
  /** Settled spend in the period. */
  readonly spentUsd: number;
  /** Worst-case cost of calls in flight. */
  readonly reservedUsd: number;
  /** spentUsd / budgetUsd. */
  readonly shareUsed: number;
  readonly tier: BudgetTier;
  readonly dailyCapUsd?: number;
  readonly dailySpentUsd?: number;
}

/** Emitted once per threshold crossing per tenant and period. */
export interface BudgetEvent {
  readonly type: 'budget.threshold_crossed';
  readonly tenant: string;
  readonly tier: BudgetTier;
  readonly shareUsed: number;
  readonly budgetUsd: number;
  readonly spentUsd: number;
  readonly periodStart: string;
  readonly at: string;
}

/** A tenant's budget position as reported with a routed call. */
export interface BudgetSnapshot {
  readonly tier: BudgetTier;
  /** Settled spend / period budget, 0..1+. */
  readonly shareUsed: number;
  readonly budgetUsd: number;
  readonly spentUsd: number;
  /** What the tier changed for this call, e.g. `downgraded to cheaper route`. */
  readonly action?: string;
  /** Routing records of served calls: the serving attempt's reservation, its worst case (prompt estimate, margin or learned correction, output allowance). */
  readonly reservedUsd?: number;
  /** Routing records of served calls: what the serving attempt cost beyond its reservation (0 when within): the provider counted more than the router estimated. */
  readonly overshootUsd?: number;
  /**
   * Routing records of served calls: the period budget left once this call was
   * settled, less the reservations in flight (negative when overspent). From
   * the ledger's answer to the settle, or, when the ledger answers later
   * (Redis), as of this call's reservation with it replaced by the cost.
   */
  readonly remainingUsd?: number;
}
