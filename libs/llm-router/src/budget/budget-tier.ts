import type { BudgetThresholds, BudgetTier } from './budget.types.js';

export const DEFAULT_THRESHOLDS: BudgetThresholds = { notice: 0.7, downgrade: 0.8, restrict: 0.95 };

/**
 * The tier for a share of the budget spent. Compared on integer micro-dollars
 * by the caller, so 80 % of $15 is exactly $12 and never 11.999999.
 */
export function tierFor(spentMicros: number, budgetMicros: number, t: BudgetThresholds): BudgetTier {
  if (spentMicros >= budgetMicros) return 'exhausted';
  if (spentMicros >= Math.round(budgetMicros * t.restrict)) return 'restricted';
  if (spentMicros >= Math.round(budgetMicros * t.downgrade)) return 'downgrade';
  if (spentMicros >= Math.round(budgetMicros * t.notice)) return 'notice';
  return 'normal';
}

const RANK: Record<BudgetTier, number> = { normal: 0, notice: 1, downgrade: 2, restricted: 3, exhausted: 4 };

export function tierRank(tier: BudgetTier): number {
  return RANK[tier];
}

/** A spend's tier, and the span of spend around it that gives the same tier. */
export interface TierSpan {
  readonly tier: BudgetTier;
  /** [from, below): between the nearest thresholds (`below` is Infinity past the last). */
  readonly from: number;
  readonly below: number;
}

/** The tiers above normal, in the order of their edges in `tierSpan`. */
const LADDER: readonly BudgetTier[] = ['notice', 'downgrade', 'restricted', 'exhausted'];

/**
 * `tierFor` with the span of spend around `spentMicros` in which it gives the
 * same tier: any spend inside it is decided the same way. One pass over the
 * edges, for a caller that needs both.
 */
export function tierSpan(spentMicros: number, budgetMicros: number, t: BudgetThresholds): TierSpan {
  let tier: BudgetTier = 'normal';
  let from = 0;
  let below = Number.POSITIVE_INFINITY;
  const edges = [Math.round(budgetMicros * t.notice), Math.round(budgetMicros * t.downgrade), Math.round(budgetMicros * t.restrict), budgetMicros];
  for (let i = 0; i < edges.length; i++) {
    const edge = edges[i]!;
    if (edge <= spentMicros) {
      // The highest tier whose edge is reached, as tierFor's checks from the top find it.
      tier = LADDER[i]!;
      from = Math.max(from, edge);
    } else below = Math.min(below, edge);
  }
  return { tier, from, below };
}
