import { Injectable } from '@nestjs/common';
import { periodWindow, type BudgetPeriod } from '@llm-router/nestjs';

/**
 * Spend per API key in its budget period, in memory: fed from routing
 * records, seeded from the store at start-up (GatewayBudgetsService does
 * both). A key's own budget is checked against it before each call; the
 * tenant budget (reserved and settled by the router) stays the hard limit.
 */
@Injectable()
export class KeySpend {
  private readonly spent = new Map<string, { window: string; usd: number }>();

  add(keyId: string, period: BudgetPeriod, usd: number, at = Date.now()): void {
    if (!(usd > 0)) return;
    const window = periodWindow(period, at).key;
    const current = this.spent.get(keyId);
    if (current && current.window === window) current.usd += usd;
    else this.spent.set(keyId, { window, usd });
  }

  /** Spend in the period that contains `now`; 0 after a roll-over. */
  current(keyId: string, period: BudgetPeriod, now = Date.now()): number {
    const current = this.spent.get(keyId);
    return current && current.window === periodWindow(period, now).key ? current.usd : 0;
  }

  /** Seed from persisted usage; spend only goes up. */
  restore(keyId: string, period: BudgetPeriod, usd: number, now = Date.now()): void {
    const window = periodWindow(period, now).key;
    const current = this.spent.get(keyId);
    if (!current || current.window !== window || current.usd < usd) this.spent.set(keyId, { window, usd });
  }
}
