import type { Observable } from 'rxjs';
import type { Criticality } from '../policy/policy.schema.js';
import type { BudgetEvent, BudgetPeriod, BudgetState, BudgetThresholds, CallerBudget, TenantBudget } from './budget.types.js';

/** A tenant's budget as set at run time; what is left out comes from the policy's budget defaults. */
export interface BudgetSetting {
  budgetUsd: number;
  period?: BudgetPeriod;
  dailyCapUsd?: number;
  thresholds?: Partial<BudgetThresholds>;
  downgradeCriticalities?: Criticality[];
  restrictCriticalities?: Criticality[];
}

/** Spend an app sums from its own records, to rebuild the ledger from. */
export interface RecordedSpend {
  /** In the tenant's current period. */
  spentUsd: number;
  /** Today (UTC), in the classes the daily cap applies to. */
  dailySpentUsd?: number;
  /** When the figures were taken (now by default): it picks the periods. */
  at?: Date;
  /** Each caller's own budget of the tenant, with its spend in that budget's current period. */
  callers?: ReadonlyArray<{ budget: CallerBudget; spentUsd: number }>;
}

/**
 * Sums a tenant's spend from the app's records (including those not written
 * yet), for the ledger to be rebuilt from.
 */
export type RecordedSpendSource = (tenant: string, at: Date) => Promise<RecordedSpend>;

/** A tenant's budget with its per-tenant actions resolved. */
export interface ResolvedTenantBudget extends TenantBudget {
  readonly downgradeCriticalities: readonly Criticality[];
  readonly restrictCriticalities: readonly Criticality[];
  readonly dailyCapCriticalities: readonly Criticality[];
}

/**
 * Tenant budgets as an app sees them (`router.budgets`): set them, read their
 * state, restore spend after a restart, watch threshold events. How a call
 * reserves and settles its spend is the router's own business.
 */
export interface TenantBudgets {
  /** Emits once per threshold crossing per tenant and period. */
  readonly events$: Observable<BudgetEvent>;
  /** Set or change a tenant's budget at run time. */
  setTenantBudget(tenant: string, setting: BudgetSetting): Promise<BudgetState>;
  getTenantBudget(tenant: string): ResolvedTenantBudget | undefined;
  /** The tenant's position now; undefined for a tenant without a budget. */
  state(tenant: string): Promise<BudgetState | undefined>;
  /** Rebuild spend from persisted usage after a restart: spend only ever goes up. */
  restoreSpend(tenant: string, spend: RecordedSpend): Promise<void>;
  /**
   * Where the ledger is rebuilt from when it turns out to have lost a
   * tenant's state (a shared Redis restarted without persistence): the next
   * budgeted call of the tenant waits for `source` and `restoreSpend`, and if
   * they fail, meets its class's `onBudgetStoreUnavailable` rule. Without a
   * source the ledger is taken as it is (spend starts again from zero).
   */
  rebuildFrom(source: RecordedSpendSource): void;
  /** What a caller's own budget has spent and holds in its current period. */
  callerSpend(tenant: string, caller: CallerBudget): Promise<{ spentUsd: number; reservedUsd: number }>;
}
