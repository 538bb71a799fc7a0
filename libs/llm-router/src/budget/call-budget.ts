import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import type { CompiledModel } from '../policy/compiled-policy.js';
import type { RoutePlan } from '../planning/route-plan.js';
import type { MaybePromise } from '../shared/maybe-promise.js';
import type { BudgetAssessment, BudgetReservation, BudgetService } from './budget.service.js';
import type { BudgetSnapshot } from './budget.types.js';
import type { LedgerBalance, LedgerExpectation } from './budget-ledger.store.js';
import { microsToUsd, tokenCostMicros, type TokenCount } from './usd.js';
import { outputAllowance, worstCaseCostMicros } from './worst-case-cost.js';

/** An attempt whose worst case the tenant's budget cannot take: skipped, with the reason for its record. */
export interface DoesNotFit {
  readonly fits: false;
  readonly reason: string;
  /** The limit that refused it: the daily cap of batch and background classes, or (absent) the period budget. */
  readonly limit?: 'period' | 'day';
}

/**
 * One attempt's hold on the tenant's budget: its worst case, reserved before
 * the call. It ends once, by `settle` or `release`; whichever comes later
 * does nothing, so no attempt is ever booked or released twice.
 */
export interface AttemptReservation {
  readonly fits: true;
  /** The request to send: without a stated output limit, capped to the output the reservation covers. */
  bound(request: ChatCompletionRequest): ChatCompletionRequest;
  /**
   * The attempt served: book what `tokens` cost at the model's price and
   * release the rest. Reported usage (not `estimated`) also teaches the
   * model's correction of the prompt estimate.
   */
  settle(tokens: TokenCount & { readonly estimated?: boolean }): void;
  /**
   * `settle` in two steps: what the attempt cost, reserved and left goes into
   * the call's budget snapshot now (its routing record says it), and the
   * returned function books it in the ledger, later (after the record).
   */
  account(tokens: TokenCount & { readonly estimated?: boolean }): () => void;
  /** The attempt spent nothing (failed, refused, abandoned): release the whole reservation. */
  release(): void;
}

/**
 * The budget of one routed call, for a tenant with a budget: the executor
 * asks it once per attempt and does not know how it reserves or books.
 */
export interface CallBudget {
  /**
   * The tenant's budget when the call was planned, and what it changed (a
   * downgrade, a target skipped because its worst case did not fit): reported
   * with the call (none when only the caller has a budget).
   */
  readonly snapshot: BudgetSnapshot | undefined;
  /**
   * Reserve an attempt on `model` for its worst case. Throws (or rejects
   * with) the typed 503 when the store cannot be reached and the class fails
   * closed, and `BudgetMoved` when the call must be planned again.
   */
  reserve(model: CompiledModel): MaybePromise<AttemptReservation | DoesNotFit>;
  /** Runs the call's record and its held settle as the ledger sends them together (see `BudgetLedgerStore.writeTogether`). */
  writeTogether(step: () => void): void;
}

/** What the plan's downgrade did, as the call's budget reports it. */
const DOWNGRADE_ACTIONS: Record<NonNullable<RoutePlan['downgrade']>, string> = {
  taken: 'downgraded to the cheaper route',
  blocked_by_floor: 'downgrade blocked by the quality floor: route kept',
};

/** A call's budget on the service's ledger; built by `BudgetService.forCall`. */
export class LedgerCallBudget implements CallBudget {
  /**
   * The budget as planned (the tier's downgrade said), then with every target
   * a reservation skipped, and once the serving attempt settled, what it
   * reserved, its overshoot and the budget left (none when only the caller has a budget).
   */
  snapshot: BudgetSnapshot | undefined;
  /** What the first reservation confirms (an assessment not read for this call); none after it. */
  private expect: LedgerExpectation | undefined;

  constructor(
    private readonly service: BudgetService,
    private readonly assessment: BudgetAssessment,
    private readonly plan: RoutePlan,
  ) {
    this.snapshot = plan.downgrade && assessment.snapshot ? { ...assessment.snapshot, action: DOWNGRADE_ACTIONS[plan.downgrade] } : assessment.snapshot;
    this.expect = assessment.expect;
  }

  reserve(model: CompiledModel): MaybePromise<AttemptReservation | DoesNotFit> {
    // The model's own count of the prompt where its tokenizer is known, corrected by what its provider has reported so far.
    const promptTokens = this.plan.prompt.tokensFor(model);
    const amount = worstCaseCostMicros(model, this.plan.needs, promptTokens, this.service.calibration.correction(model.name));
    // Only the first: once it is answered, the call stands on what it was planned on (as one that read it).
    const expect = this.expect;
    this.expect = undefined;
    const held = this.service.reserve(this.assessment, amount, this.plan.trafficClass, expect);
    return held instanceof Promise ? held.then((h) => this.toAttempt(model, h, promptTokens)) : this.toAttempt(model, held, promptTokens);
  }

  writeTogether(step: () => void): void {
    this.service.writeTogether(step);
  }

  /** The serving attempt was booked: what it reserved, what it cost beyond that, and the budget left, for its record. */
  settled(held: BudgetReservation, actualMicros: number, after: LedgerBalance | undefined): void {
    // Only the caller has a budget: the tenant's figures are not reported.
    if (this.snapshot === undefined) return;
    const budgetMicros = this.assessment.limits.budgetMicros;
    const committed = after ? after.spentMicros + after.reservedMicros : held.committedMicros === undefined ? undefined : held.committedMicros - held.amountMicros + actualMicros;
    // A literal, not a spread of the snapshot: this runs on every budgeted call.
    const { tier, shareUsed, budgetUsd, spentUsd, action } = this.snapshot;
    const snapshot: { -readonly [K in keyof BudgetSnapshot]: BudgetSnapshot[K] } = {
      tier,
      shareUsed,
      budgetUsd,
      spentUsd,
      reservedUsd: microsToUsd(held.amountMicros),
      overshootUsd: microsToUsd(Math.max(0, actualMicros - held.amountMicros)),
    };
    if (action !== undefined) snapshot.action = action;
    if (committed !== undefined) snapshot.remainingUsd = microsToUsd(budgetMicros - committed);
    this.snapshot = snapshot;
  }

  private toAttempt(model: CompiledModel, held: BudgetReservation | DoesNotFit, promptTokens: number): AttemptReservation | DoesNotFit {
    if (held.fits) return new LedgerAttemptReservation(this.service, this, held, model, this.plan, promptTokens);
    // In any tier, a target the budget moves the call off is a budget action: said with the call, as a downgrade is.
    const skip = `${model.name} skipped: its ${held.reason}`;
    if (this.snapshot) {
      const before = this.snapshot.action;
      this.snapshot = { ...this.snapshot, action: before === undefined ? skip : `${before}; ${skip}` };
    }
    return held;
  }
}

class LedgerAttemptReservation implements AttemptReservation {
  readonly fits = true as const;
  private ended = false;

  constructor(
    private readonly service: BudgetService,
    private readonly call: LedgerCallBudget,
    private readonly held: BudgetReservation,
    private readonly model: CompiledModel,
    private readonly plan: RoutePlan,
    /** The prompt estimate it was reserved for, before margin and correction. */
    private readonly promptTokens: number,
  ) {}

  bound(request: ChatCompletionRequest): ChatCompletionRequest {
    // A stated limit (max_tokens or max_completion_tokens) is what was reserved already.
    if (this.plan.needs.requestedMaxOutputTokens !== undefined) return request;
    return { ...request, max_tokens: outputAllowance(this.model, this.plan.needs) };
  }

  settle(tokens: TokenCount & { readonly estimated?: boolean }): void {
    this.account(tokens)();
  }

  account(tokens: TokenCount & { readonly estimated?: boolean }): () => void {
    if (this.ended) return () => undefined;
    if (tokens.estimated !== true) this.service.calibration.observe(this.model.name, this.promptTokens, tokens.promptTokens);
    const actual = tokenCostMicros(tokens.promptTokens, tokens.completionTokens, this.model.price);
    // The figures as of the reservation (the ledger's answer comes after the record).
    this.call.settled(this.held, actual, undefined);
    // The real cost is booked, overshoot included: the ledger says what was spent, and the tier refuses what comes after.
    return () => void this.end(actual);
  }

  release(): void {
    this.end(0);
  }

  private end(actualMicros: number): LedgerBalance | undefined {
    if (this.ended) return undefined;
    this.ended = true;
    return this.service.settle(this.held, actualMicros);
  }
}
