import { randomBytes } from 'node:crypto';
import { Subject, type Observable } from 'rxjs';
import { LlmRouterError } from '../errors/llm-router.error.js';
import type { MaybePromise } from '../shared/maybe-promise.js';
import type { CompiledClass, CompiledPolicy } from '../policy/compiled-policy.js';
import type { BudgetsConfig } from '../policy/policy.schema.js';
import type { RoutePlan } from '../planning/route-plan.js';
import type { BudgetLedgerStore, LedgerBalance, LedgerLimits } from './budget-ledger.store.js';
import { periodWindow, type PeriodWindow } from './budget-period.js';
import { DEFAULT_THRESHOLDS, tierFor, tierRank } from './budget-tier.js';
import type { BudgetEvent, BudgetSnapshot, BudgetState } from './budget.types.js';
import { LedgerCallBudget, type CallBudget, type DoesNotFit } from './call-budget.js';
import type { BudgetSetting, ResolvedTenantBudget, TenantBudgets } from './tenant-budgets.js';
import { UsageCalibration } from './usage-calibration.js';
import { microsToUsd, usdToMicros } from './usd.js';

/** What the budget says about one call, decided before planning. */
export interface BudgetAssessment {
  readonly tenant: string;
  readonly limits: LedgerLimits;
  readonly snapshot: BudgetSnapshot;
  /** Take the class's cheaper route. */
  readonly downgrade: boolean;
  /** The store could not be reached and the class fails open: serve unmetered within the allowance. */
  readonly unmetered: boolean;
  readonly allowanceMicros: number;
}

/** A granted reservation, settled exactly once. */
export interface BudgetReservation {
  readonly fits: true;
  readonly assessment: BudgetAssessment;
  readonly amountMicros: number;
  /** The ledger lease it is held as (none while the store is down and the class fails open). */
  readonly leaseId?: string;
  /** Spent plus reserved in the period once it was granted, this reservation included (none when unmetered). */
  readonly committedMicros?: number;
}

export type ReserveOutcome = BudgetReservation | DoesNotFit;

/**
 * Spend tiers that change routing, and reservations that cannot overspend.
 * Before each attempt the worst-case cost is reserved atomically; after it the
 * actual cost is settled and the rest released. The lifecycle of one call:
 * `assess` before planning (refuse, downgrade or let through), then `forCall`,
 * whose CallBudget the executor asks once per attempt.
 */
export class BudgetService implements TenantBudgets {
  private readonly tenants = new Map<string, ResolvedTenantBudget>();
  private readonly events = new Subject<BudgetEvent>();
  /** Unmetered spend per tenant while the store is unreachable (fail-open classes). */
  private readonly unmeteredMicros = new Map<string, number>();
  readonly events$: Observable<BudgetEvent> = this.events.asObservable();
  /** Per model, the learned ratio of reported to estimated prompt tokens that reservations are corrected by. */
  readonly calibration = new UsageCalibration();

  constructor(
    private readonly policy: CompiledPolicy,
    private readonly ledger: BudgetLedgerStore,
    private readonly now: () => number = Date.now,
    private readonly onEvent?: (event: BudgetEvent) => void,
  ) {
    for (const [tenant, b] of Object.entries(policy.budgets.tenants)) this.tenants.set(tenant, this.resolve(b));
  }

  /** Set or change a tenant's budget at run time. */
  async setTenantBudget(tenant: string, setting: BudgetSetting): Promise<BudgetState> {
    if (!(setting.budgetUsd > 0)) throw new RangeError('budgetUsd must be a positive number');
    this.tenants.set(tenant, this.resolve(setting));
    return (await this.state(tenant))!;
  }

  getTenantBudget(tenant: string): ResolvedTenantBudget | undefined {
    return this.tenants.get(tenant);
  }

  /** The tenant's position now; undefined for a tenant without a budget. */
  async state(tenant: string): Promise<BudgetState | undefined> {
    const budget = this.tenants.get(tenant);
    if (!budget) return undefined;
    const window = periodWindow(budget.period, this.now());
    const limits = this.limits(budget, window, true);
    let balance: LedgerBalance;
    try {
      balance = await this.ledger.balance(tenant, limits);
    } catch (err) {
      throw unreachable(tenant, 'read', err);
    }
    return this.toState(tenant, budget, window, balance);
  }

  /** Rebuild spend from persisted usage after a restart: spend only ever goes up. */
  async restoreSpend(tenant: string, spend: { spentUsd: number; dailySpentUsd?: number; at?: Date }): Promise<void> {
    const budget = this.tenants.get(tenant);
    const window = periodWindow(budget?.period ?? this.policy.budgets.defaults.period, spend.at?.getTime() ?? this.now());
    const limits = this.limits(budget, window, true);
    try {
      await this.ledger.restore(tenant, limits, usdToMicros(spend.spentUsd), usdToMicros(spend.dailySpentUsd ?? 0));
    } catch (err) {
      throw unreachable(tenant, 'restored', err);
    }
  }

  /**
   * Decide, before planning, what the tenant's tier does to this call:
   * refuse it, downgrade it, or let it through. Throws the typed refusal.
   */
  assess(tenant: string | undefined, cls: CompiledClass): MaybePromise<BudgetAssessment | undefined> {
    if (tenant === undefined) return undefined;
    const budget = this.tenants.get(tenant);
    if (!budget) return undefined;
    const window = periodWindow(budget.period, this.now());
    const limits = this.limits(budget, window, budget.dailyCapCriticalities.includes(cls.criticality));
    let balance: MaybePromise<LedgerBalance>;
    try {
      balance = this.ledger.balance(tenant, limits);
    } catch (err) {
      return this.unavailable(tenant, cls, limits, budget, err);
    }
    if (balance instanceof Promise) {
      return balance.then(
        (b) => this.decide(tenant, cls, budget, window, limits, b),
        (err: unknown) => this.unavailable(tenant, cls, limits, budget, err),
      );
    }
    return this.decide(tenant, cls, budget, window, limits, balance);
  }

  /** The budget of one planned call, for the executor to reserve and settle its attempts through. */
  forCall(assessment: BudgetAssessment, plan: RoutePlan): CallBudget {
    return new LedgerCallBudget(this, assessment, plan);
  }

  /** Reserve an attempt's worst-case cost. */
  reserve(assessment: BudgetAssessment, amountMicros: number, cls: CompiledClass): MaybePromise<ReserveOutcome> {
    if (assessment.unmetered) {
      const used = this.unmeteredMicros.get(assessment.tenant) ?? 0;
      if (used + amountMicros > assessment.allowanceMicros) {
        return this.storeDown(assessment.tenant, cls, 'the fail-open allowance is used up');
      }
      this.unmeteredMicros.set(assessment.tenant, used + amountMicros);
      return { fits: true, assessment, amountMicros };
    }
    const leaseId = nextLeaseId();
    const onResult = (r: { granted: boolean; refusedBy?: 'period' | 'day'; balance: LedgerBalance }): ReserveOutcome =>
      r.granted
        ? { fits: true, assessment, amountMicros, leaseId, committedMicros: r.balance.spentMicros + r.balance.reservedMicros }
        : {
            fits: false,
            limit: r.refusedBy === 'day' ? 'day' : 'period',
            reason:
              r.refusedBy === 'day'
                ? `worst case $${microsToUsd(amountMicros).toFixed(6)} does not fit the daily cap ($${microsToUsd(r.balance.daySpentMicros + r.balance.dayReservedMicros).toFixed(6)} of $${microsToUsd(assessment.limits.dailyCapMicros ?? 0)} committed)`
                : `worst case $${microsToUsd(amountMicros).toFixed(6)} does not fit the remaining budget ($${microsToUsd(r.balance.spentMicros + r.balance.reservedMicros).toFixed(6)} of $${microsToUsd(assessment.limits.budgetMicros)} committed)`,
          };
    // The store went away after the assessment: the class's outage rule applies here too.
    const onOutage = (err: unknown): ReserveOutcome => {
      const mode = cls.onBudgetStoreUnavailable;
      if (mode === 'fail_closed') return this.storeDown(assessment.tenant, cls, errorText(err));
      return this.reserve({ ...assessment, unmetered: true, allowanceMicros: usdToMicros(mode.failOpenUpToUsd) }, amountMicros, cls) as ReserveOutcome;
    };
    try {
      const r = this.ledger.reserve(assessment.tenant, amountMicros, assessment.limits, { id: leaseId, ttlMs: cls.deadlineMs + LEASE_MARGIN_MS });
      if (r instanceof Promise) return r.then(onResult, onOutage);
      return onResult(r);
    } catch (err) {
      return onOutage(err);
    }
  }

  /**
   * Book the actual cost and release the rest; fires threshold events. Never
   * throws. Returns the balance after it when the ledger answered at once.
   */
  settle(reservation: BudgetReservation, actualMicros: number): LedgerBalance | undefined {
    const { assessment } = reservation;
    if (assessment.unmetered) {
      // The allowance counts what was actually spent, not what was feared.
      const used = this.unmeteredMicros.get(assessment.tenant) ?? 0;
      this.unmeteredMicros.set(assessment.tenant, Math.max(0, used - (reservation.amountMicros - actualMicros)));
      return undefined;
    }
    return this.settleWithRetry(reservation, actualMicros, 0);
  }

  /**
   * A settle lost to a store blip would leave the actual cost unbooked and
   * the reservation held until its lease runs out: try again a few times. A
   * retry of a settle that did arrive books nothing twice (the lease is gone).
   */
  private settleWithRetry(reservation: BudgetReservation, actualMicros: number, tries: number): LedgerBalance | undefined {
    const { assessment } = reservation;
    const retry = () => {
      const waitMs = SETTLE_RETRY_MS[tries];
      if (waitMs !== undefined) setTimeout(() => this.settleWithRetry(reservation, actualMicros, tries + 1), waitMs).unref();
    };
    let balance: MaybePromise<LedgerBalance>;
    try {
      balance = this.ledger.settle(assessment.tenant, reservation.amountMicros, actualMicros, assessment.limits, reservation.leaseId ?? '');
    } catch {
      retry();
      return undefined;
    }
    if (balance instanceof Promise) {
      balance.then((b) => this.afterSettle(assessment, b), retry);
      return undefined;
    }
    this.afterSettle(assessment, balance);
    return balance;
  }

  close(): void {
    this.events.complete();
  }

  private decide(
    tenant: string,
    cls: CompiledClass,
    budget: ResolvedTenantBudget,
    window: PeriodWindow,
    limits: LedgerLimits,
    balance: LedgerBalance,
  ): BudgetAssessment {
    const tier = tierFor(balance.spentMicros, limits.budgetMicros, budget.thresholds);
    const shareUsed = balance.spentMicros / limits.budgetMicros;
    const spentUsd = microsToUsd(balance.spentMicros);
    const snapshot = (action?: string): BudgetSnapshot => ({
      tier,
      shareUsed,
      budgetUsd: budget.budgetUsd,
      spentUsd,
      ...(action ? { action } : {}),
    });
    // Messages are built only for a refusal: this runs before every budgeted call.
    const refuse = (code: string, message: () => string): never => {
      throw new LlmRouterError({ category: 'budget_exhausted', httpStatus: 402, origin: 'gateway', code, message: message() });
    };
    const periodText = () => {
      const state = this.toState(tenant, budget, window, balance);
      return `${budget.period} ${state.periodStart.slice(0, 10)}..${state.periodEnd.slice(0, 10)}`;
    };
    if (tier === 'exhausted') {
      refuse('insufficient_quota', () => `Tenant "${tenant}" has spent $${spentUsd.toFixed(6)} of its $${budget.budgetUsd} budget for the ${periodText()}: every request is refused until the period ends or the budget is raised.`);
    }
    if (tier === 'restricted' && budget.restrictCriticalities.includes(cls.criticality)) {
      refuse('budget_restricted', () => `Tenant "${tenant}" has used ${(shareUsed * 100).toFixed(1)}% of its $${budget.budgetUsd} budget for the ${periodText()}: ${cls.criticality} traffic ("${cls.name}") is paused above ${budget.thresholds.restrict * 100}%.`);
    }
    if (limits.dailyCapMicros !== undefined && balance.daySpentMicros >= limits.dailyCapMicros) {
      refuse('daily_cap_exhausted', () => `Tenant "${tenant}" has reached its daily cap of $${budget.dailyCapUsd} for ${cls.criticality} traffic ("${cls.name}") today (UTC).`);
    }
    const downgrade = tierRank(tier) >= tierRank('downgrade') && budget.downgradeCriticalities.includes(cls.criticality);
    return { tenant, limits, snapshot: snapshot(), downgrade, unmetered: false, allowanceMicros: 0 };
  }

  private unavailable(
    tenant: string,
    cls: CompiledClass,
    limits: LedgerLimits,
    budget: ResolvedTenantBudget,
    err: unknown,
  ): BudgetAssessment {
    const mode = cls.onBudgetStoreUnavailable;
    if (mode === 'fail_closed') return this.storeDown(tenant, cls, errorText(err));
    return {
      tenant,
      limits,
      snapshot: { tier: 'normal', shareUsed: 0, budgetUsd: budget.budgetUsd, spentUsd: 0, action: 'budget store unavailable: served unmetered (fail-open)' },
      downgrade: false,
      unmetered: true,
      allowanceMicros: usdToMicros(mode.failOpenUpToUsd),
    };
  }

  private storeDown(tenant: string, cls: CompiledClass, why: string): never {
    throw new LlmRouterError({
      category: 'budget_unavailable',
      httpStatus: 503,
      origin: 'gateway',
      code: 'budget_store_unavailable',
      message: `The budget of tenant "${tenant}" cannot be checked (${why}); class "${cls.name}" fails closed.`,
    });
  }

  private afterSettle(assessment: BudgetAssessment, balance: LedgerBalance): void {
    const budget = this.tenants.get(assessment.tenant);
    if (!budget) return;
    const tier = tierFor(balance.spentMicros, assessment.limits.budgetMicros, budget.thresholds);
    if (tier === 'normal' || tierRank(tier) <= tierRank(assessment.snapshot.tier)) return;
    // One event per threshold crossed, once per period even across instances.
    for (const crossed of (['notice', 'downgrade', 'restricted', 'exhausted'] as const).filter((t) => tierRank(t) <= tierRank(tier) && tierRank(t) > tierRank(assessment.snapshot.tier))) {
      const first = this.ledger.markCrossing(assessment.tenant, assessment.limits, crossed);
      const emit = (isFirst: boolean) => {
        if (!isFirst) return;
        const window = periodWindow(budget.period, this.now());
        const event: BudgetEvent = {
          type: 'budget.threshold_crossed',
          tenant: assessment.tenant,
          tier: crossed,
          shareUsed: balance.spentMicros / assessment.limits.budgetMicros,
          budgetUsd: budget.budgetUsd,
          spentUsd: microsToUsd(balance.spentMicros),
          periodStart: new Date(window.start).toISOString(),
          at: new Date(this.now()).toISOString(),
        };
        this.events.next(event);
        this.onEvent?.(event);
      };
      if (first instanceof Promise) first.then(emit, () => undefined);
      else emit(first);
    }
  }

  private limits(budget: ResolvedTenantBudget | undefined, window: PeriodWindow, withDay: boolean): LedgerLimits {
    const periodTtlSec = Math.ceil((window.end - this.now()) / 1000) + 7 * 86_400;
    const dayKey = withDay ? periodWindow('day', this.now()).key : undefined;
    return {
      periodKey: window.key,
      periodTtlSec,
      budgetMicros: usdToMicros(budget?.budgetUsd ?? 0),
      ...(dayKey !== undefined ? { dayKey } : {}),
      ...(withDay && budget?.dailyCapUsd !== undefined ? { dailyCapMicros: usdToMicros(budget.dailyCapUsd) } : {}),
    };
  }

  private toState(tenant: string, budget: ResolvedTenantBudget, window: PeriodWindow, b: LedgerBalance): BudgetState {
    const budgetMicros = usdToMicros(budget.budgetUsd);
    return {
      tenant,
      period: budget.period,
      periodStart: new Date(window.start).toISOString(),
      periodEnd: new Date(window.end).toISOString(),
      budgetUsd: budget.budgetUsd,
      spentUsd: microsToUsd(b.spentMicros),
      reservedUsd: microsToUsd(b.reservedMicros),
      shareUsed: b.spentMicros / budgetMicros,
      tier: tierFor(b.spentMicros, budgetMicros, budget.thresholds),
      ...(budget.dailyCapUsd !== undefined ? { dailyCapUsd: budget.dailyCapUsd, dailySpentUsd: microsToUsd(b.daySpentMicros) } : {}),
    };
  }

  private resolve(b: BudgetSetting | BudgetsConfig['tenants'][string]): ResolvedTenantBudget {
    const d = this.policy.budgets.defaults;
    return {
      budgetUsd: b.budgetUsd,
      period: b.period ?? d.period,
      ...(b.dailyCapUsd !== undefined ? { dailyCapUsd: b.dailyCapUsd } : {}),
      thresholds: { ...DEFAULT_THRESHOLDS, ...d.thresholds, ...b.thresholds },
      downgradeCriticalities: b.downgradeCriticalities ?? d.downgradeCriticalities,
      restrictCriticalities: b.restrictCriticalities ?? d.restrictCriticalities,
      dailyCapCriticalities: d.dailyCapCriticalities,
    };
  }
}

/**
 * Waits before each retry of a failed settle: about 80 s in all, so a Redis
 * failover does not lose the cost. A retry is safe however late (the ledger
 * books each lease once), and after its lease ran out the cost is still booked.
 */
const SETTLE_RETRY_MS = [250, 1_000, 4_000, 15_000, 60_000];
/** A lease outlives its call's deadline by this much, so that the settle and its first retries come before it runs out. */
const LEASE_MARGIN_MS = 60_000;

/** Lease ids: unique per process (a random prefix) and per reservation (a counter); cheap enough for every attempt. */
const LEASE_PREFIX = randomBytes(9).toString('base64url');
let leaseSeq = 0;
const nextLeaseId = (): string => `${LEASE_PREFIX}.${(++leaseSeq).toString(36)}`;

/** The ledger did not answer a read or a restore: the caller gets a 503 it can retry, not an internal error. */
function unreachable(tenant: string, what: 'read' | 'restored', err: unknown): LlmRouterError {
  return new LlmRouterError({
    category: 'budget_unavailable',
    httpStatus: 503,
    origin: 'gateway',
    code: 'budget_store_unavailable',
    message: `The budget of tenant "${tenant}" cannot be ${what}: the budget store did not answer (${errorText(err)}).`,
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

