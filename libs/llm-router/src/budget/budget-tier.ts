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

/**
 * The span of spend around `spentMicros` in which `tierFor` gives the same
 * tier: [from, below), between the nearest thresholds (`below` is Infinity
 * past the last). Any spend inside it is decided the same way.
 */
export function tierSpan(spentMicros: number, budgetMicros: number, t: BudgetThresholds): { from: number; below: number } {
  let from = 0;
  let below = Number.POSITIVE_INFINITY;
  for (const edge of [Math.round(budgetMicros * t.notice), Math.round(budgetMicros * t.downgrade), Math.round(budgetMicros * t.restrict), budgetMicros]) {
    if (edge <= spentMicros) from = Math.max(from, edge);
    else below = Math.min(below, edge);
  }
  return { from, below };
}
