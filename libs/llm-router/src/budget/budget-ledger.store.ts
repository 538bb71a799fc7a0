import type { MaybePromise } from '../execution/circuit/circuit-state.store.js';

/** The ledger keys of one request: its budget period, and its day when a daily cap applies. */
export interface LedgerKeys {
  readonly periodKey: string;
  /** Seconds the period's counters are kept after it ends (roll-over needs no clean-up job). */
  readonly periodTtlSec: number;
  readonly dayKey?: string;
}

export interface LedgerLimits extends LedgerKeys {
  readonly budgetMicros: number;
  readonly dailyCapMicros?: number;
}

/** Settled spend and reservations in flight, in micro-dollars. */
export interface LedgerBalance {
  readonly spentMicros: number;
  readonly reservedMicros: number;
  readonly daySpentMicros: number;
  readonly dayReservedMicros: number;
}

export interface ReserveResult {
  readonly granted: boolean;
  /** Which limit refused it. */
  readonly refusedBy?: 'period' | 'day';
  readonly balance: LedgerBalance;
}

/**
 * Per-tenant spend. `reserve` and `settle` are each one atomic step, so
 * concurrent requests (and several gateway instances sharing the store)
 * can never reserve past the budget.
 */
export interface BudgetLedgerStore {
  /** Reserve `amountMicros` if spent + reserved + amount fits every limit. */
  reserve(tenant: string, amountMicros: number, limits: LedgerLimits): MaybePromise<ReserveResult>;
  /** Release a reservation and book the actual cost. */
  settle(tenant: string, reservedMicros: number, actualMicros: number, keys: LedgerKeys): MaybePromise<LedgerBalance>;
  balance(tenant: string, keys: LedgerKeys): MaybePromise<LedgerBalance>;
  /** Raise settled spend to at least these figures (rebuilding from persisted usage after a restart). */
  restore(tenant: string, keys: LedgerKeys, spentMicros: number, daySpentMicros: number): MaybePromise<void>;
  /** True the first time a tier is reached in a period: events fire once per crossing. */
  markCrossing(tenant: string, keys: LedgerKeys, tier: string): MaybePromise<boolean>;
}

export const BUDGET_LEDGER_STORE = Symbol('BUDGET_LEDGER_STORE');
