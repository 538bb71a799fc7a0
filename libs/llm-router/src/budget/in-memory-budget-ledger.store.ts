import type { BudgetLedgerStore, CallerLedgerKeys, CallerSpend, LedgerBalance, LedgerExpectation, LedgerKeys, LedgerLimits, ReserveResult } from './budget-ledger.store.js';

interface Counter {
  spent: number;
  reserved: number;
}

/**
 * Counters by window key, then owner: found without building a key string
 * (a budgeted call looks its counters up three times or more).
 */
class CounterTable {
  private readonly byWindow = new Map<string, Map<string, Counter>>();

  find(window: string, owner: string): Counter | undefined {
    return this.byWindow.get(window)?.get(owner);
  }

  /** The counter, created at zero when there is none yet. */
  take(window: string, owner: string): Counter {
    let owners = this.byWindow.get(window);
    if (owners === undefined) {
      owners = new Map();
      this.byWindow.set(window, owners);
    }
    let c = owners.get(owner);
    if (c === undefined) {
      c = { spent: 0, reserved: 0 };
      owners.set(owner, c);
    }
    return c;
  }
}

/**
 * The single-instance ledger: synchronous, so check-and-reserve is atomic on
 * the event loop. Its reservations die with the process that holds them, and
 * its settles cannot be lost or repeated, so leases need no tracking here.
 */
export class InMemoryBudgetLedgerStore implements BudgetLedgerStore {
  /** Tenants' period counters, by period key. */
  private readonly periods = new CounterTable();
  /** Tenants' day counters, by day key. */
  private readonly days = new CounterTable();
  /** Callers' counters, by their period key, then tenant and caller id. */
  private readonly callers = new CounterTable();
  private readonly crossings = new Set<string>();

  reserve(tenant: string, amount: number, limits: LedgerLimits, _lease?: unknown, expect?: LedgerExpectation): ReserveResult {
    const period = this.periods.take(limits.periodKey, tenant);
    const day = limits.dayKey !== undefined ? this.days.take(limits.dayKey, tenant) : undefined;
    const caller = limits.caller !== undefined ? this.callerCounter(tenant, limits.caller) : undefined;
    const refuse = (refusedBy: 'period' | 'day' | 'caller' | 'moved'): ReserveResult => ({ granted: false, refusedBy, balance: this.snapshot(period, day, caller) });
    if (expect !== undefined && !meets(expect, period, day, caller)) return refuse('moved');
    if (period.spent + period.reserved + amount > limits.budgetMicros) return refuse('period');
    if (day && limits.dailyCapMicros !== undefined && day.spent + day.reserved + amount > limits.dailyCapMicros) return refuse('day');
    if (caller && limits.caller && caller.spent + caller.reserved + amount > limits.caller.budgetMicros) return refuse('caller');
    period.reserved += amount;
    if (day) day.reserved += amount;
    if (caller) caller.reserved += amount;
    return { granted: true, balance: this.snapshot(period, day, caller) };
  }

  settle(tenant: string, reserved: number, actual: number, keys: LedgerKeys): LedgerBalance {
    const period = this.periods.take(keys.periodKey, tenant);
    const day = keys.dayKey !== undefined ? this.days.take(keys.dayKey, tenant) : undefined;
    const caller = keys.caller !== undefined ? this.callerCounter(tenant, keys.caller) : undefined;
    settleOn(period, reserved, actual);
    if (day) settleOn(day, reserved, actual);
    if (caller) settleOn(caller, reserved, actual);
    return this.snapshot(period, day, caller);
  }

  balance(tenant: string, keys: LedgerKeys): LedgerBalance {
    const period = this.periods.find(keys.periodKey, tenant);
    const day = keys.dayKey !== undefined ? this.days.find(keys.dayKey, tenant) : undefined;
    if (keys.caller === undefined) return this.snapshot(period, day, undefined);
    return this.snapshot(period, day, this.callers.find(keys.caller.periodKey, callerOwner(tenant, keys.caller)) ?? { spent: 0, reserved: 0 });
  }

  restore(tenant: string, keys: LedgerKeys, spent: number, daySpent: number, callers: readonly CallerSpend[] = []): void {
    const raise = (c: Counter, to: number) => (c.spent = Math.max(c.spent, to));
    raise(this.periods.take(keys.periodKey, tenant), spent);
    if (keys.dayKey !== undefined) raise(this.days.take(keys.dayKey, tenant), daySpent);
    for (const c of callers) raise(this.callerCounter(tenant, c.keys), c.spentMicros);
  }

  markCrossing(tenant: string, keys: LedgerKeys, tier: string): boolean {
    const key = `${tenant}|${keys.periodKey}|${tier}`;
    if (this.crossings.has(key)) return false;
    this.crossings.add(key);
    return true;
  }

  private callerCounter(tenant: string, caller: CallerLedgerKeys): Counter {
    return this.callers.take(caller.periodKey, callerOwner(tenant, caller));
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

function meets(e: LedgerExpectation, period: Counter, day: Counter | undefined, caller: Counter | undefined): boolean {
  if (period.spent < e.spentAtLeast || period.spent >= e.spentBelow) return false;
  if (e.daySpentBelow !== undefined && (day?.spent ?? 0) >= e.daySpentBelow) return false;
  return e.callerSpentBelow === undefined || (caller?.spent ?? 0) < e.callerSpentBelow;
}

function settleOn(c: Counter, reserved: number, actual: number): void {
  c.reserved = Math.max(0, c.reserved - reserved);
  c.spent += actual;
}

/** A caller is its tenant's: two tenants' callers with one id keep separate counters. */
const callerOwner = (tenant: string, caller: CallerLedgerKeys): string => `${tenant}|${caller.id}`;
