import type { BudgetLedgerStore, LedgerBalance, LedgerKeys, LedgerLimits, ReserveResult } from './budget-ledger.store.js';

interface Counter {
  spent: number;
  reserved: number;
}

/**
 * The single-instance ledger: synchronous, so check-and-reserve is atomic on
 * the event loop. Its reservations die with the process that holds them, and
 * its settles cannot be lost or repeated, so leases need no tracking here.
 */
export class InMemoryBudgetLedgerStore implements BudgetLedgerStore {
  private readonly counters = new Map<string, Counter>();
  private readonly crossings = new Set<string>();

  reserve(tenant: string, amount: number, limits: LedgerLimits): ReserveResult {
    const period = this.counter(`${tenant}|p|${limits.periodKey}`);
    const day = limits.dayKey !== undefined ? this.counter(`${tenant}|d|${limits.dayKey}`) : undefined;
    if (period.spent + period.reserved + amount > limits.budgetMicros) {
      return { granted: false, refusedBy: 'period', balance: this.snapshot(period, day) };
    }
    if (day && limits.dailyCapMicros !== undefined && day.spent + day.reserved + amount > limits.dailyCapMicros) {
      return { granted: false, refusedBy: 'day', balance: this.snapshot(period, day) };
    }
    period.reserved += amount;
    if (day) day.reserved += amount;
    return { granted: true, balance: this.snapshot(period, day) };
  }

  settle(tenant: string, reserved: number, actual: number, keys: LedgerKeys): LedgerBalance {
    const period = this.counter(`${tenant}|p|${keys.periodKey}`);
    period.reserved = Math.max(0, period.reserved - reserved);
    period.spent += actual;
    const day = keys.dayKey !== undefined ? this.counter(`${tenant}|d|${keys.dayKey}`) : undefined;
    if (day) {
      day.reserved = Math.max(0, day.reserved - reserved);
      day.spent += actual;
    }
    return this.snapshot(period, day);
  }

  balance(tenant: string, keys: LedgerKeys): LedgerBalance {
    const period = this.counters.get(`${tenant}|p|${keys.periodKey}`);
    const day = keys.dayKey !== undefined ? this.counters.get(`${tenant}|d|${keys.dayKey}`) : undefined;
    return this.snapshot(period, day);
  }

  restore(tenant: string, keys: LedgerKeys, spent: number, daySpent: number): void {
    const period = this.counter(`${tenant}|p|${keys.periodKey}`);
    period.spent = Math.max(period.spent, spent);
    if (keys.dayKey !== undefined) {
      const day = this.counter(`${tenant}|d|${keys.dayKey}`);
      day.spent = Math.max(day.spent, daySpent);
    }
  }

  markCrossing(tenant: string, keys: LedgerKeys, tier: string): boolean {
    const key = `${tenant}|${keys.periodKey}|${tier}`;
    if (this.crossings.has(key)) return false;
    this.crossings.add(key);
    return true;
  }

  private counter(key: string): Counter {
    let c = this.counters.get(key);
    if (!c) {
      c = { spent: 0, reserved: 0 };
      this.counters.set(key, c);
    }
    return c;
  }

  private snapshot(period: Counter | undefined, day: Counter | undefined): LedgerBalance {
    return {
      spentMicros: period?.spent ?? 0,
      reservedMicros: period?.reserved ?? 0,
      daySpentMicros: day?.spent ?? 0,
      dayReservedMicros: day?.reserved ?? 0,
    };
  }
}
