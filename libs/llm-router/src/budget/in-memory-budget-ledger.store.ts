import type { BudgetLedgerStore, CallerLedgerKeys, CallerSpend, LedgerBalance, LedgerKeys, LedgerLimits, ReserveResult } from './budget-ledger.store.js';

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
    const [period, day, caller] = this.accounts(tenant, limits);
    const refuse = (refusedBy: 'period' | 'day' | 'caller'): ReserveResult => ({ granted: false, refusedBy, balance: this.snapshot(period, day, caller) });
    if (period.spent + period.reserved + amount > limits.budgetMicros) return refuse('period');
    if (day && limits.dailyCapMicros !== undefined && day.spent + day.reserved + amount > limits.dailyCapMicros) return refuse('day');
    if (caller && limits.caller && caller.spent + caller.reserved + amount > limits.caller.budgetMicros) return refuse('caller');
    for (const c of [period, day, caller]) if (c) c.reserved += amount;
    return { granted: true, balance: this.snapshot(period, day, caller) };
  }

  settle(tenant: string, reserved: number, actual: number, keys: LedgerKeys): LedgerBalance {
    const [period, day, caller] = this.accounts(tenant, keys);
    for (const c of [period, day, caller]) {
      if (!c) continue;
      c.reserved = Math.max(0, c.reserved - reserved);
      c.spent += actual;
    }
    return this.snapshot(period, day, caller);
  }

  balance(tenant: string, keys: LedgerKeys): LedgerBalance {
    const period = this.counters.get(`${tenant}|p|${keys.periodKey}`);
    const day = keys.dayKey !== undefined ? this.counters.get(`${tenant}|d|${keys.dayKey}`) : undefined;
    if (keys.caller === undefined) return this.snapshot(period, day, undefined);
    return this.snapshot(period, day, this.counters.get(callerKey(tenant, keys.caller)) ?? { spent: 0, reserved: 0 });
  }

  restore(tenant: string, keys: LedgerKeys, spent: number, daySpent: number, callers: readonly CallerSpend[] = []): void {
    const raise = (c: Counter, to: number) => (c.spent = Math.max(c.spent, to));
    raise(this.counter(`${tenant}|p|${keys.periodKey}`), spent);
    if (keys.dayKey !== undefined) raise(this.counter(`${tenant}|d|${keys.dayKey}`), daySpent);
    for (const c of callers) raise(this.counter(callerKey(tenant, c.keys)), c.spentMicros);
  }

  markCrossing(tenant: string, keys: LedgerKeys, tier: string): boolean {
    const key = `${tenant}|${keys.periodKey}|${tier}`;
    if (this.crossings.has(key)) return false;
    this.crossings.add(key);
    return true;
  }

  /** The tenant's period counter, and its day's and its caller's when the keys name them. */
  private accounts(tenant: string, keys: LedgerKeys): [Counter, Counter | undefined, Counter | undefined] {
    return [
      this.counter(`${tenant}|p|${keys.periodKey}`),
      keys.dayKey !== undefined ? this.counter(`${tenant}|d|${keys.dayKey}`) : undefined,
      keys.caller !== undefined ? this.counter(callerKey(tenant, keys.caller)) : undefined,
    ];
  }

  private counter(key: string): Counter {
    let c = this.counters.get(key);
    if (!c) {
      c = { spent: 0, reserved: 0 };
      this.counters.set(key, c);
    }
    return c;
  }

  /** The caller's figures only when the call has a caller's budget. */
  private snapshot(period: Counter | undefined, day: Counter | undefined, caller: Counter | undefined): LedgerBalance {
    const balance = {
      spentMicros: period?.spent ?? 0,
      reservedMicros: period?.reserved ?? 0,
      daySpentMicros: day?.spent ?? 0,
      dayReservedMicros: day?.reserved ?? 0,
    };
    return caller ? { ...balance, callerSpentMicros: caller.spent, callerReservedMicros: caller.reserved } : balance;
  }
}

const callerKey = (tenant: string, caller: CallerLedgerKeys): string => `${tenant}|c|${caller.id}|${caller.periodKey}`;
