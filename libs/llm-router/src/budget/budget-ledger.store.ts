import type { MaybePromise } from '../shared/maybe-promise.js';

/** The ledger keys of a caller's own budget inside its tenant's (an API key's): its period. */
export interface CallerLedgerKeys {
  /** Unique within the tenant. */
  readonly id: string;
  readonly periodKey: string;
  readonly periodTtlSec: number;
}

export interface CallerLedgerLimits extends CallerLedgerKeys {
  readonly budgetMicros: number;
}

/** The ledger keys of one request: its budget period, and its day when a daily cap applies. */
export interface LedgerKeys {
  readonly periodKey: string;
  /** Seconds the period's counters are kept after it ends (roll-over needs no clean-up job). */
  readonly periodTtlSec: number;
  readonly dayKey?: string;
  /** The caller's own budget, booked in the same atomic step as the tenant's. */
  readonly caller?: CallerLedgerKeys;
}

export interface LedgerLimits extends LedgerKeys {
  /** The tenant's period budget; `Infinity` when only the caller has a budget (the tenant's spend is still booked). */
  readonly budgetMicros: number;
  readonly dailyCapMicros?: number;
  readonly caller?: CallerLedgerLimits;
}

/** Settled spend and reservations in flight, in micro-dollars. */
export interface LedgerBalance {
  readonly spentMicros: number;
  readonly reservedMicros: number;
  readonly daySpentMicros: number;
  readonly dayReservedMicros: number;
  /** The caller's own budget (0 without one). */
  readonly callerSpentMicros?: number;
  readonly callerReservedMicros?: number;
  /**
   * The shared ledger lost this tenant's state (a Redis restarted without
   * persistence, or restarted from an older snapshot): the figures mean
   * nothing, and nothing was reserved, until `restore` rebuilds it.
   */
  readonly lost?: boolean;
}

/**
 * The figures a call was decided on without reading them first (see
 * `BudgetService.assess`): the reservation is made only while the ledger's
 * own figures still give the same decision, checked in the same atomic step.
 */
export interface LedgerExpectation {
  /** The tenant's period spend lies in [spentAtLeast, spentBelow): the same tier (`Infinity`: no upper bound). */
  readonly spentAtLeast: number;
  readonly spentBelow: number;
  /** The day's spend is below the daily cap. */
  readonly daySpentBelow?: number;
  /** The caller's spend is below its own budget. */
  readonly callerSpentBelow?: number;
}

export interface ReserveResult {
  readonly granted: boolean;
  /**
   * Which limit refused it; `lost`: the ledger lost the tenant's state (see
   * `LedgerBalance.lost`); `moved`: the figures are outside the expectation
   * (the balance says where they are now).
   */
  readonly refusedBy?: 'period' | 'day' | 'caller' | 'lost' | 'moved';
  readonly balance: LedgerBalance;
}

/**
 * What a reservation is held as. A store shared by several processes keeps
 * each reservation as a lease: one whose settle never comes (its process died
 * mid-call) is released when the lease runs out instead of staying booked
 * until the period ends, and a settle sent twice (a retry after a timeout
 * that had in fact arrived) books nothing twice.
 */
export interface LedgerLease {
  /** Unique among the reservations in flight, across every process sharing the store. */
  readonly id: string;
  /** How long the call may hold it: the class's deadline and a margin for the settle. */
  readonly ttlMs: number;
}

/** A caller's spend rebuilt from persisted usage, in micro-dollars. */
export interface CallerSpend {
  readonly keys: CallerLedgerKeys;
  readonly spentMicros: number;
}

/**
 * Per-tenant spend (and, inside it, each caller's own). `reserve` and
 * `settle` are each one atomic step, so concurrent requests (and several
 * gateway instances sharing the store) can never reserve past the budget.
 */
export interface BudgetLedgerStore {
  /**
   * Reserve `amountMicros` if spent + reserved + amount fits every limit (the
   * tenant's period and day, the caller's) and, when given, the figures meet
   * `expect` (checked first: refused as `moved` otherwise).
   */
  reserve(tenant: string, amountMicros: number, limits: LedgerLimits, lease: LedgerLease, expect?: LedgerExpectation): MaybePromise<ReserveResult>;
  /** Release a reservation (`leaseId` is the id it was reserved with) and book the actual cost. */
  settle(tenant: string, reservedMicros: number, actualMicros: number, keys: LedgerKeys, leaseId: string): MaybePromise<LedgerBalance>;
  balance(tenant: string, keys: LedgerKeys): MaybePromise<LedgerBalance>;
  /**
   * Raise settled spend, the tenant's and its callers', to at least these
   * figures (rebuilding from persisted usage after a restart). A store that
   * can lose its state marks the tenant rebuilt: `lost` is not reported again
   * until it loses it again.
   */
  restore(tenant: string, keys: LedgerKeys, spentMicros: number, daySpentMicros: number, callers?: readonly CallerSpend[]): MaybePromise<void>;
  /** True the first time a tier is reached in a period: events fire once per crossing. */
  markCrossing(tenant: string, keys: LedgerKeys, tier: string): MaybePromise<boolean>;
  /**
   * Optional. Runs `step`, in which a call's record is emitted and then its
   * settle handed to this store, so that a command a record listener writes at
   * once on the store's own connection (the gateway's journal entry) and the
   * settle after it can go out in one write, in that order, before `step`'s
   * caller goes on (a store may keep the settle for a batch under load).
   * Without it, `step` runs as is.
   */
  writeTogether?(step: () => void): void;
}

export const BUDGET_LEDGER_STORE = Symbol('BUDGET_LEDGER_STORE');
