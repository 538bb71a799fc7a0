import { randomBytes } from 'node:crypto';
import { Subject, type Observable } from 'rxjs';
import { LlmRouterError } from '../errors/llm-router.error.js';
import type { MaybePromise } from '../shared/maybe-promise.js';
import type { CompiledClass, CompiledPolicy } from '../policy/compiled-policy.js';
import type { BudgetsConfig } from '../policy/policy.schema.js';
import type { RoutePlan } from '../planning/route-plan.js';
import type { BudgetLedgerStore, CallerLedgerLimits, LedgerBalance, LedgerExpectation, LedgerLease, LedgerLimits, ReserveResult } from './budget-ledger.store.js';
import { BudgetMoved } from './budget-moved.js';
import { periodWindow, type PeriodWindow } from './budget-period.js';
import { DEFAULT_THRESHOLDS, tierFor, tierRank, tierSpan, type TierSpan } from './budget-tier.js';
import type { BudgetEvent, BudgetSnapshot, BudgetState, BudgetTier, CallerBudget } from './budget.types.js';
import { LedgerCallBudget, type CallBudget, type DoesNotFit } from './call-budget.js';
import type { BudgetSetting, RecordedSpend, RecordedSpendSource, ResolvedTenantBudget, TenantBudgets } from './tenant-budgets.js';
import { UsageCalibration } from './usage-calibration.js';
import { microsToUsd, usdToMicros } from './usd.js';
import { base36 } from '../shared/base36.js';

/** What the budget says about one call, decided before planning. */
export interface BudgetAssessment {
  readonly tenant: string;
  readonly limits: LedgerLimits;
  /** The tenant's budget position; absent when only the caller has a budget. */
  readonly snapshot?: BudgetSnapshot;
  /** Take the class's cheaper route. */
  readonly downgrade: boolean;
  /** The store could not be reached and the class fails open: serve unmetered within the allowance. */
  readonly unmetered: boolean;
  readonly allowanceMicros: number;
  /** The caller's own budget, reserved and settled with the tenant's. */
  readonly caller?: CallerBudget;
  /** The ledger's balance it was decided on (none when unmetered): what an explanation's "would it fit" reads. */
  readonly balance?: LedgerBalance;
  /**
   * Decided on the tenant's last known balance, not read for this call: the
   * call's first reservation confirms it (see `BudgetMoved`).
   */
  readonly expect?: LedgerExpectation;
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
  /** Where a ledger that lost a tenant's state is rebuilt from; none: taken as it is. */
  private spendSource: RecordedSpendSource | undefined;
  /** Rebuilds in progress, one per tenant: every call that finds the state lost waits for the same. */
  private readonly rebuilding = new Map<string, Promise<void>>();
  readonly events$: Observable<BudgetEvent> = this.events.asObservable();
  /** Per model, the learned ratio of reported to estimated prompt tokens that reservations are corrected by. */
  readonly calibration = new UsageCalibration();

  /** Tenants whose budget was set at run time: a reloaded policy's own budgets never override them. */
  private readonly setAtRunTime = new Set<string>();

  /**
   * Per tenant, the ledger's last answer in this process (a read, a reserve,
   * a settle): what a call is decided on without a read of its own, when it
   * is recent and of the current period. Never trusted alone: the call's
   * first reservation checks, in the ledger's atomic step, that the figures
   * still give the same decision (`LedgerExpectation`).
   */
  private readonly known = new Map<string, KnownBalance>();

  constructor(
    private policy: CompiledPolicy,
    private readonly ledger: BudgetLedgerStore,
    private readonly now: () => number = Date.now,
    /** Told of each threshold event with the policy in force (its webhook: see postToPolicyWebhook). */
    private readonly onEvent?: (event: BudgetEvent, policy: CompiledPolicy) => void,
  ) {
    for (const [tenant, b] of Object.entries(policy.budgets.tenants)) this.tenants.set(tenant, this.resolve(b));
  }

  /** Set or change a tenant's budget at run time. */
  async setTenantBudget(tenant: string, setting: BudgetSetting): Promise<BudgetState> {
    if (!(setting.budgetUsd > 0)) throw new RangeError('budgetUsd must be a positive number');
    this.tenants.set(tenant, this.resolve(setting));
    this.setAtRunTime.add(tenant);
    // What the ledger holds now: an app restores a new budget's spend itself (and with it, a lost state).
    return (await this.stateOf(tenant, false))!;
  }

  /**
   * A reloaded policy: its defaults apply from the next call on, and the
   * tenant budgets it writes replace the previous policy's (a budget set at
   * run time is kept). Spend already booked is the ledger's, untouched.
   */
  usePolicy(policy: CompiledPolicy): void {
    const before = this.policy;
    this.policy = policy;
    for (const tenant of Object.keys(before.budgets.tenants)) if (!this.setAtRunTime.has(tenant)) this.tenants.delete(tenant);
    for (const [tenant, b] of Object.entries(policy.budgets.tenants)) if (!this.setAtRunTime.has(tenant)) this.tenants.set(tenant, this.resolve(b));
  }

  getTenantBudget(tenant: string): ResolvedTenantBudget | undefined {
    return this.tenants.get(tenant);
  }

  /** The tenant's position now; undefined for a tenant without a budget. */
  state(tenant: string): Promise<BudgetState | undefined> {
    return this.stateOf(tenant, true);
  }

  private async stateOf(tenant: string, rebuildLost: boolean): Promise<BudgetState | undefined> {
    const budget = this.tenants.get(tenant);
    if (!budget) return undefined;
    const window = periodWindow(budget.period, this.now());
    return this.toState(tenant, budget, window, await this.read(tenant, this.limits(budget, window, true), rebuildLost));
  }

  /** The ledger's balance; a lost state rebuilt first when `rebuildLost`. A ledger that does not answer: the typed 503. */
  private async read(tenant: string, limits: LedgerLimits, rebuildLost: boolean): Promise<LedgerBalance> {
    try {
      const balance = await this.ledger.balance(tenant, limits);
      if (!balance.lost || !rebuildLost) return balance;
      return await this.afterRebuild(tenant, () => this.ledger.balance(tenant, limits), (b) => b.lost === true);
    } catch (err) {
      throw unreachable(tenant, 'read', err);
    }
  }

  /** Rebuild spend from persisted usage after a restart: spend only ever goes up. */
  async restoreSpend(tenant: string, spend: RecordedSpend): Promise<void> {
    const budget = this.tenants.get(tenant);
    const at = spend.at?.getTime() ?? this.now();
    const window = periodWindow(budget?.period ?? this.policy.budgets.defaults.period, at);
    const limits = this.limits(budget, window, true);
    const callers = (spend.callers ?? []).map((c) => ({ keys: this.callerLimits(c.budget, at), spentMicros: usdToMicros(c.spentUsd) }));
    this.known.delete(tenant);
    try {
      await this.ledger.restore(tenant, limits, usdToMicros(spend.spentUsd), usdToMicros(spend.dailySpentUsd ?? 0), callers);
    } catch (err) {
      throw unreachable(tenant, 'restored', err);
    }
  }

  rebuildFrom(source: RecordedSpendSource): void {
    this.spendSource = source;
  }

  async callerSpend(tenant: string, caller: CallerBudget): Promise<{ spentUsd: number; reservedUsd: number }> {
    const window = periodWindow(this.tenants.get(tenant)?.period ?? this.policy.budgets.defaults.period, this.now());
    const balance = await this.read(tenant, this.limits(this.tenants.get(tenant), window, false, caller), true);
    return { spentUsd: microsToUsd(balance.callerSpentMicros ?? 0), reservedUsd: microsToUsd(balance.callerReservedMicros ?? 0) };
  }

  /**
   * Decide, before planning, what the tenant's tier does to this call:
   * refuse it, downgrade it, or let it through. Throws the typed refusal.
   * On the tenant's last known balance when there is one (no round trip; the
   * first reservation confirms it), else on the ledger's; `read`: always the
   * ledger's (an explanation).
   */
  assess(tenant: string | undefined, cls: CompiledClass, caller?: CallerBudget, read = false): MaybePromise<BudgetAssessment | undefined> {
    if (tenant === undefined) return undefined;
    const budget = this.tenants.get(tenant);
    if (!budget && !caller) return undefined;
    // One reading of the clock for the window and the limits (each costs ~0.2 µs on a busy VM).
    const now = this.now();
    const limits = this.limits(budget, periodWindow(budget?.period ?? this.policy.budgets.defaults.period, now), budget?.dailyCapCriticalities.includes(cls.criticality) ?? false, caller, now);
    const known = read ? undefined : this.known.get(tenant);
    if (known !== undefined && known.periodKey === limits.periodKey && now - known.at < KNOWN_FOR_MS) {
      const decided = this.decide(tenant, cls, budget, limits, known.balance, caller, true);
      // A refusal is never taken on figures not read for this call: those are read.
      if (decided !== undefined) return decided;
    }
    let balance: MaybePromise<LedgerBalance>;
    try {
      balance = this.ledger.balance(tenant, limits);
    } catch (err) {
      return this.unavailable(tenant, cls, limits, budget, err, caller);
    }
    // The in-process ledger's answer, decided at once (no closures: this runs before every budgeted call).
    if (!(balance instanceof Promise) && !balance.lost) {
      this.remember(tenant, limits, balance);
      return this.decide(tenant, cls, budget, limits, balance, caller);
    }
    const decide = (b: LedgerBalance) => {
      this.remember(tenant, limits, b);
      return this.decide(tenant, cls, budget, limits, b, caller);
    };
    const unavailable = (err: unknown) => this.unavailable(tenant, cls, limits, budget, err, caller);
    // A ledger that lost the tenant's state is rebuilt before anything is decided on it.
    const onBalance = (b: LedgerBalance) =>
      b.lost ? this.afterRebuild(tenant, () => this.ledger.balance(tenant, limits), (again) => again.lost === true).then(decide, unavailable) : decide(b);
    return balance instanceof Promise ? balance.then(onBalance, unavailable) : onBalance(balance);
  }

  /** The budget of one planned call, for the executor to reserve and settle its attempts through. */
  forCall(assessment: BudgetAssessment, plan: RoutePlan): CallBudget {
    return new LedgerCallBudget(this, assessment, plan);
  }

  /**
   * Whether a reservation of `amountMicros` would be granted on the balance
   * the assessment read, without reserving anything (an explanation, a dry
   * run): the reason it would be refused, or undefined. The ledger's own
   * check, on figures that may have moved since.
   */
  wouldRefuse(assessment: BudgetAssessment, amountMicros: number): string | undefined {
    const b = assessment.balance;
    if (assessment.unmetered || b === undefined) return undefined;
    const { limits } = assessment;
    const refusedBy =
      b.spentMicros + b.reservedMicros + amountMicros > limits.budgetMicros
        ? 'period'
        : limits.dailyCapMicros !== undefined && b.daySpentMicros + b.dayReservedMicros + amountMicros > limits.dailyCapMicros
          ? 'day'
          : limits.caller !== undefined && (b.callerSpentMicros ?? 0) + (b.callerReservedMicros ?? 0) + amountMicros > limits.caller.budgetMicros
            ? 'caller'
            : undefined;
    return refusedBy === undefined ? undefined : refusalReason(assessment, amountMicros, { granted: false, refusedBy, balance: b });
  }

  /**
   * Reserve an attempt's worst-case cost. With `expect` (the call's first
   * reservation on an assessment not read for it): only while the ledger's
   * figures still give the same decision; otherwise nothing is reserved and
   * `BudgetMoved` is thrown (or rejected with), carrying the decision on the
   * ledger's figures, or what the class's outage rule makes of a ledger that
   * did not answer, exactly as `assess` would have decided on a read.
   */
  reserve(assessment: BudgetAssessment, amountMicros: number, cls: CompiledClass, expect?: LedgerExpectation): MaybePromise<ReserveOutcome> {
    if (assessment.unmetered) {
      const used = this.unmeteredMicros.get(assessment.tenant) ?? 0;
      if (used + amountMicros > assessment.allowanceMicros) {
        return this.storeDown(assessment.tenant, cls, 'the fail-open allowance is used up');
      }
      this.unmeteredMicros.set(assessment.tenant, used + amountMicros);
      return { fits: true, assessment, amountMicros };
    }
    const lease: LedgerLease = { id: nextLeaseId(), ttlMs: cls.deadlineMs + LEASE_MARGIN_MS };
    let first: MaybePromise<ReserveResult>;
    try {
      first = this.ledger.reserve(assessment.tenant, amountMicros, assessment.limits, lease, expect);
    } catch (err) {
      return this.reserveFailed(assessment, amountMicros, cls, expect, err);
    }
    // The in-process ledger's answer, taken at once (no closures past this point on that path).
    if (!(first instanceof Promise) && first.refusedBy === undefined) {
      this.remember(assessment.tenant, assessment.limits, first.balance);
      return reserveOutcome(assessment, amountMicros, lease, first);
    }
    // Two callbacks per call on the shared ledger's path; the rest is built only for the rare answers that need it.
    if (first instanceof Promise) {
      return first.then(
        (r) => this.reserveAnswered(assessment, amountMicros, cls, lease, expect, r),
        (err: unknown) => this.reserveFailed(assessment, amountMicros, cls, expect, err),
      );
    }
    return this.reserveAnswered(assessment, amountMicros, cls, lease, expect, first);
  }

  /** The ledger's answer to a reservation; one that found the tenant's state lost is asked again once it is rebuilt. */
  private reserveAnswered(assessment: BudgetAssessment, amountMicros: number, cls: CompiledClass, lease: LedgerLease, expect: LedgerExpectation | undefined, r: ReserveResult): MaybePromise<ReserveOutcome> {
    if (r.refusedBy !== 'lost') return this.reserveDecided(assessment, amountMicros, cls, lease, r);
    const again = () => this.ledger.reserve(assessment.tenant, amountMicros, assessment.limits, lease, expect);
    return this.afterRebuild(assessment.tenant, again, (result) => result.refusedBy === 'lost').then(
      (result) => this.reserveDecided(assessment, amountMicros, cls, lease, result),
      (err: unknown) => this.reserveFailed(assessment, amountMicros, cls, expect, err),
    );
  }

  private reserveDecided(assessment: BudgetAssessment, amountMicros: number, cls: CompiledClass, lease: LedgerLease, r: ReserveResult): ReserveOutcome {
    this.remember(assessment.tenant, assessment.limits, r.balance);
    if (r.refusedBy !== 'moved') return reserveOutcome(assessment, amountMicros, lease, r);
    return this.moved(() => this.decideAgain(assessment, cls, r.balance));
  }

  /** The store went away after the assessment: the class's outage rule applies here too. */
  private reserveFailed(assessment: BudgetAssessment, amountMicros: number, cls: CompiledClass, expect: LedgerExpectation | undefined, err: unknown): ReserveOutcome {
    if (expect === undefined) return this.reserveOnOutage(assessment, amountMicros, cls, err);
    return this.moved(() => this.unavailable(assessment.tenant, cls, assessment.limits, this.tenants.get(assessment.tenant), err, assessment.caller));
  }

  /** The call must be planned again on `next` (a decision, or the refusal it throws): thrown as `BudgetMoved`. */
  private moved(next: () => BudgetAssessment | undefined): never {
    let decided: BudgetAssessment | undefined | LlmRouterError;
    try {
      decided = next();
    } catch (err) {
      if (!(err instanceof LlmRouterError)) throw err;
      decided = err;
    }
    throw new BudgetMoved(decided);
  }

  /** `assess` on the ledger's figures from a reservation's answer (read, in effect: no expectation on it), with the limits it was assessed on. */
  private decideAgain(assessment: BudgetAssessment, cls: CompiledClass, balance: LedgerBalance): BudgetAssessment | undefined {
    const { tenant, limits, caller } = assessment;
    const budget = this.tenants.get(tenant);
    // The tenant's budget may have gone with a reloaded policy.
    return budget || caller ? this.decide(tenant, cls, budget, limits, balance, caller) : undefined;
  }

  /** The figures that give the same decision as the balance `span` was found on: the tier's span of spend, below the daily cap and the caller's budget. */
  private expectation(limits: LedgerLimits, span: TierSpan | undefined): LedgerExpectation {
    const expect: { -readonly [K in keyof LedgerExpectation]: LedgerExpectation[K] } = { spentAtLeast: span?.from ?? 0, spentBelow: span?.below ?? Number.POSITIVE_INFINITY };
    if (limits.dailyCapMicros !== undefined) expect.daySpentBelow = limits.dailyCapMicros;
    if (limits.caller !== undefined) expect.callerSpentBelow = limits.caller.budgetMicros;
    return expect;
  }

  /** The ledger's latest answer for the tenant (a lost state's figures mean nothing: forgotten). */
  private remember(tenant: string, limits: LedgerLimits, balance: LedgerBalance): void {
    if (balance.lost) {
      this.known.delete(tenant);
      return;
    }
    const at = this.now();
    const known = this.known.get(tenant);
    // Updated in place: once per reservation and settle.
    if (known !== undefined) {
      known.periodKey = limits.periodKey;
      known.balance = balance;
      known.at = at;
      return;
    }
    if (this.known.size >= MAX_KNOWN_TENANTS) this.known.clear();
    this.known.set(tenant, { periodKey: limits.periodKey, balance, at });
  }

  /** The class's outage rule for a reservation the store did not answer: refused, or served unmetered within its allowance. */
  private reserveOnOutage(assessment: BudgetAssessment, amountMicros: number, cls: CompiledClass, err: unknown): ReserveOutcome {
    const mode = cls.onBudgetStoreUnavailable;
    if (mode === 'fail_closed') return this.storeDown(assessment.tenant, cls, errorText(err));
    return this.reserve({ ...assessment, unmetered: true, allowanceMicros: usdToMicros(mode.failOpenUpToUsd) }, amountMicros, cls) as ReserveOutcome;
  }

  /**
   * The ledger lost the tenant's state: rebuild it from the app's records
   * (one rebuild per tenant at a time, shared by every call that found it
   * lost), then ask `again`. Rejects when the rebuild fails or the state is
   * still lost: the caller's outage rule applies.
   */
  private afterRebuild<R>(tenant: string, again: () => MaybePromise<R>, lost: (r: R) => boolean): Promise<R> {
    let rebuild = this.rebuilding.get(tenant);
    if (rebuild === undefined) {
      const at = new Date(this.now());
      rebuild = (this.spendSource ? this.spendSource(tenant, at) : Promise.resolve<RecordedSpend>({ spentUsd: 0 }))
        .then((spend) => this.restoreSpend(tenant, { at, ...spend }))
        .finally(() => this.rebuilding.delete(tenant));
      this.rebuilding.set(tenant, rebuild);
    }
    return rebuild.then(again).then((r) => {
      if (lost(r)) throw new Error('the budget ledger lost its state and is not rebuilt yet');
      return r;
    });
  }

  /** Runs a call's record and its settle as the ledger sends them together (see `BudgetLedgerStore.writeTogether`). */
  writeTogether(step: () => void): void {
    if (this.ledger.writeTogether) this.ledger.writeTogether(step);
    else step();
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
    let balance: MaybePromise<LedgerBalance>;
    try {
      balance = this.ledger.settle(assessment.tenant, reservation.amountMicros, actualMicros, assessment.limits, reservation.leaseId ?? '');
    } catch {
      this.retrySettle(reservation, actualMicros, tries);
      return undefined;
    }
    if (balance instanceof Promise) {
      // Counted, not kept: this runs on every budgeted call (see settleOutstanding).
      this.settlesInFlight++;
      balance.then(
        (b) => {
          this.settleLanded();
          this.afterSettle(assessment, b);
        },
        () => {
          this.settleLanded();
          this.retrySettle(reservation, actualMicros, tries);
        },
      );
      return undefined;
    }
    this.afterSettle(assessment, balance);
    return balance;
  }

  /** The settle's `tries`-th attempt failed: the next one after its wait, if any is left. */
  private retrySettle(reservation: BudgetReservation, actualMicros: number, tries: number): void {
    const waitMs = SETTLE_RETRY_MS[tries];
    if (waitMs === undefined) return;
    const later = () => {
      this.pendingSettles.delete(pending);
      this.settleWithRetry(reservation, actualMicros, tries + 1);
    };
    // `again`: one last try now, at shutdown (see settleOutstanding).
    const pending = { timer: setTimeout(later, waitMs).unref(), again: () => this.settleWithRetry(reservation, actualMicros, SETTLE_RETRY_MS.length) };
    this.pendingSettles.add(pending);
  }

  private settleLanded(): void {
    if (--this.settlesInFlight === 0) for (const landed of this.allLanded.splice(0)) landed();
  }

  /** Settles sent and not yet answered. */
  private settlesInFlight = 0;
  /** Whoever waits for the settles in flight to be answered (settleOutstanding). */
  private readonly allLanded: Array<() => void> = [];
  /** Settles waiting to be tried again after a failure. */
  private readonly pendingSettles = new Set<{ timer: NodeJS.Timeout; again: () => void }>();

  /**
   * Before the ledger's connection closes (a shutdown): waits for the settles
   * in flight and tries every settle waiting for a retry once more, now, so
   * that none is lost with the process. Returns how many were retried.
   */
  async settleOutstanding(): Promise<number> {
    const waiting = [...this.pendingSettles];
    this.pendingSettles.clear();
    for (const pending of waiting) {
      clearTimeout(pending.timer);
      pending.again();
    }
    // Each answered, its balance remembered (or its retry waiting): those tried again just now included.
    if (this.settlesInFlight > 0) await new Promise<void>((landed) => this.allLanded.push(landed));
    return waiting.length;
  }

  close(): void {
    this.events.complete();
  }

  /**
   * What the tenant's tier (and the caller's own budget) does to the call on
   * `balance`: the assessment, or the typed refusal thrown. `onKnown`: the
   * balance is the last known one, not read for this call; the assessment
   * then carries what its first reservation confirms, and where a refusal
   * would be thrown it answers undefined instead (the figures are read).
   */
  private decide(
    tenant: string,
    cls: CompiledClass,
    budget: ResolvedTenantBudget | undefined,
    limits: LedgerLimits,
    balance: LedgerBalance,
    caller: CallerBudget | undefined,
    onKnown = false,
  ): BudgetAssessment | undefined {
    // The tier and its span, worked out once per decision.
    const span = budget === undefined ? undefined : tierSpan(balance.spentMicros, limits.budgetMicros, budget.thresholds);
    const refusal = this.refusal(cls, budget, limits, balance, caller, span?.tier);
    if (onKnown && refusal !== undefined) return undefined;
    const expect = onKnown ? this.expectation(limits, span) : undefined;
    if (caller !== undefined) {
      const spent = balance.callerSpentMicros ?? 0;
      if (refusal === 'caller') {
        throw new LlmRouterError({
          category: 'budget_exhausted',
          httpStatus: 402,
          origin: 'gateway',
          code: 'insufficient_quota',
          message: `${callerName(caller)} has spent $${microsToUsd(spent).toFixed(6)} of its own $${caller.budgetUsd} budget for this ${caller.period} (UTC): every request it makes is refused until the period ends or the budget is raised.`,
        });
      }
      if (budget === undefined) {
        const own: { -readonly [K in keyof BudgetAssessment]: BudgetAssessment[K] } = { tenant, limits, downgrade: false, unmetered: false, allowanceMicros: 0, caller, balance };
        if (expect) own.expect = expect;
        return own;
      }
    }
    if (budget === undefined || span === undefined) throw new Error(`tenant "${tenant}" has no budget`); // assess never asks then
    const { tier } = span;
    const shareUsed = balance.spentMicros / limits.budgetMicros;
    const spentUsd = microsToUsd(balance.spentMicros);
    // Messages are built only for a refusal: this runs before every budgeted call.
    if (refusal === 'exhausted') {
      throw budgetRefusal(
        'insufficient_quota',
        `Tenant "${tenant}" has spent $${spentUsd.toFixed(6)} of its $${budget.budgetUsd} budget for the ${this.periodText(tenant, budget, balance)}: every request is refused until the period ends or the budget is raised.`,
      );
    }
    if (refusal === 'restricted') {
      throw budgetRefusal(
        'budget_restricted',
        `Tenant "${tenant}" has used ${(shareUsed * 100).toFixed(1)}% of its $${budget.budgetUsd} budget for the ${this.periodText(tenant, budget, balance)}: ${cls.criticality} traffic ("${cls.name}") is paused above ${budget.thresholds.restrict * 100}%.`,
      );
    }
    if (refusal === 'day') {
      throw budgetRefusal('daily_cap_exhausted', `Tenant "${tenant}" has reached its daily cap of $${budget.dailyCapUsd} for ${cls.criticality} traffic ("${cls.name}") today (UTC).`);
    }
    const downgrade = tierRank(tier) >= tierRank('downgrade') && budget.downgradeCriticalities.includes(cls.criticality);
    const snapshot: BudgetSnapshot = { tier, shareUsed, budgetUsd: budget.budgetUsd, spentUsd };
    const assessment: { -readonly [K in keyof BudgetAssessment]: BudgetAssessment[K] } = { tenant, limits, snapshot, downgrade, unmetered: false, allowanceMicros: 0, balance };
    if (caller) assessment.caller = caller;
    if (expect) assessment.expect = expect;
    return assessment;
  }

  /** Which rule refuses a call on `balance` (the tenant's `tier` on it), in the order they are told: the caller's own budget, the tier, the daily cap. */
  private refusal(
    cls: CompiledClass,
    budget: ResolvedTenantBudget | undefined,
    limits: LedgerLimits,
    balance: LedgerBalance,
    caller: CallerBudget | undefined,
    tier: BudgetTier | undefined,
  ): 'caller' | 'exhausted' | 'restricted' | 'day' | undefined {
    if (caller !== undefined && (balance.callerSpentMicros ?? 0) >= usdToMicros(caller.budgetUsd)) return 'caller';
    if (budget === undefined) return undefined;
    if (tier === 'exhausted') return 'exhausted';
    if (tier === 'restricted' && budget.restrictCriticalities.includes(cls.criticality)) return 'restricted';
    if (limits.dailyCapMicros !== undefined && balance.daySpentMicros >= limits.dailyCapMicros) return 'day';
    return undefined;
  }

  /** The period a refusal names: `month 2026-12-01..2027-01-01`. */
  private periodText(tenant: string, budget: ResolvedTenantBudget, balance: LedgerBalance): string {
    const state = this.toState(tenant, budget, periodWindow(budget.period, this.now()), balance);
    return `${budget.period} ${state.periodStart.slice(0, 10)}..${state.periodEnd.slice(0, 10)}`;
  }

  private unavailable(
    tenant: string,
    cls: CompiledClass,
    limits: LedgerLimits,
    budget: ResolvedTenantBudget | undefined,
    err: unknown,
    caller: CallerBudget | undefined,
  ): BudgetAssessment {
    const mode = cls.onBudgetStoreUnavailable;
    if (mode === 'fail_closed') return this.storeDown(tenant, cls, errorText(err));
    return {
      tenant,
      limits,
      ...(budget
        ? { snapshot: { tier: 'normal', shareUsed: 0, budgetUsd: budget.budgetUsd, spentUsd: 0, action: 'budget store unavailable: served unmetered (fail-open)' } }
        : {}),
      downgrade: false,
      unmetered: true,
      allowanceMicros: usdToMicros(mode.failOpenUpToUsd),
      ...(caller ? { caller } : {}),
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
    this.remember(assessment.tenant, assessment.limits, balance);
    const budget = this.tenants.get(assessment.tenant);
    if (!budget) return;
    const tier = tierFor(balance.spentMicros, assessment.limits.budgetMicros, budget.thresholds);
    const before = assessment.snapshot?.tier ?? 'normal';
    if (tier === 'normal' || tierRank(tier) <= tierRank(before)) return;
    // One event per threshold crossed, once per period even across instances.
    for (const crossed of (['notice', 'downgrade', 'restricted', 'exhausted'] as const).filter((t) => tierRank(t) <= tierRank(tier) && tierRank(t) > tierRank(before))) {
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
        this.onEvent?.(event, this.policy);
      };
      if (first instanceof Promise) first.then(emit, () => undefined);
      else emit(first);
    }
  }

  /** A tenant without a budget has no period limit, but its spend is still booked (a caller's budget needs the same step). */
  private limits(budget: ResolvedTenantBudget | undefined, window: PeriodWindow, withDay: boolean, caller?: CallerBudget, now = this.now()): LedgerLimits {
    // Assigned, not spread in: once per budgeted call.
    const limits: { -readonly [K in keyof LedgerLimits]: LedgerLimits[K] } = {
      periodKey: window.key,
      periodTtlSec: ttlAfter(window, now),
      budgetMicros: budget ? usdToMicros(budget.budgetUsd) : Number.POSITIVE_INFINITY,
    };
    if (withDay) {
      limits.dayKey = periodWindow('day', now).key;
      if (budget?.dailyCapUsd !== undefined) limits.dailyCapMicros = usdToMicros(budget.dailyCapUsd);
    }
    if (caller) limits.caller = this.callerLimits(caller, now);
    return limits;
  }

  private callerLimits(caller: CallerBudget, now: number): CallerLedgerLimits {
    const window = periodWindow(caller.period, now);
    return { id: caller.id, periodKey: window.key, periodTtlSec: ttlAfter(window, now), budgetMicros: usdToMicros(caller.budgetUsd) };
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

/** How long the ledger's last answer for a tenant is decided on without a read (it is confirmed by the reservation either way). */
const KNOWN_FOR_MS = 5_000;
/** Tenants whose last balance is kept at most; beyond it, the memory starts over. */
const MAX_KNOWN_TENANTS = 10_000;

interface KnownBalance {
  periodKey: string;
  balance: LedgerBalance;
  at: number;
}

/** Counters are kept a week after their period ends. */
const ttlAfter = (window: PeriodWindow, now: number): number => Math.ceil((window.end - now) / 1000) + 7 * 86_400;

const callerName = (caller: CallerBudget): string => caller.name ?? `Caller "${caller.id}"`;

/** The ledger's answer to a reservation: granted (held as `lease`), or the reason it does not fit. */
function reserveOutcome(assessment: BudgetAssessment, amountMicros: number, lease: LedgerLease, r: ReserveResult): ReserveOutcome {
  if (r.granted) return { fits: true, assessment, amountMicros, leaseId: lease.id, committedMicros: r.balance.spentMicros + r.balance.reservedMicros };
  return { fits: false, limit: r.refusedBy === 'day' ? 'day' : 'period', reason: refusalReason(assessment, amountMicros, r) };
}

/** A tenant's budget refuses the call (HTTP 402). */
function budgetRefusal(code: string, message: string): LlmRouterError {
  return new LlmRouterError({ category: 'budget_exhausted', httpStatus: 402, origin: 'gateway', code, message });
}

/** Why the ledger refused a reservation, for the attempt's record. */
function refusalReason(assessment: BudgetAssessment, amountMicros: number, r: ReserveResult): string {
  const usd = (micros: number) => `$${microsToUsd(micros).toFixed(6)}`;
  const b = r.balance;
  const worst = `worst case ${usd(amountMicros)}`;
  if (r.refusedBy === 'day') return `${worst} does not fit the daily cap (${usd(b.daySpentMicros + b.dayReservedMicros)} of $${microsToUsd(assessment.limits.dailyCapMicros ?? 0)} committed)`;
  if (r.refusedBy === 'caller' && assessment.caller) {
    const committed = (b.callerSpentMicros ?? 0) + (b.callerReservedMicros ?? 0);
    return `${worst} does not fit the own budget of ${callerName(assessment.caller)} (${usd(committed)} of $${assessment.caller.budgetUsd} committed)`;
  }
  return `${worst} does not fit the remaining budget (${usd(b.spentMicros + b.reservedMicros)} of $${microsToUsd(assessment.limits.budgetMicros)} committed)`;
}

/** Lease ids: unique per process (a random prefix) and per reservation (a counter); cheap enough for every attempt. */
const LEASE_PREFIX = randomBytes(9).toString('base64url');
let leaseSeq = 0;
const nextLeaseId = (): string => `${LEASE_PREFIX}.${base36(++leaseSeq)}`;

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

