import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import type { CompiledModel } from '../policy/compiled-policy.js';
import type { RoutePlan } from '../planning/route-plan.js';
import type { MaybePromise } from '../shared/maybe-promise.js';
import type { BudgetAssessment, BudgetReservation, BudgetService } from './budget.service.js';
import type { BudgetSnapshot } from './budget.types.js';
import { tokenCostMicros, type TokenCount } from './usd.js';
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
  /** The attempt served: book what `tokens` cost at the model's price and release the rest. */
  settle(tokens: TokenCount): void;
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
   * with) the typed 503 when the store cannot be reached and the class fails closed.
   */
  reserve(model: CompiledModel): MaybePromise<AttemptReservation | DoesNotFit>;
}

/** What the plan's downgrade did, as the call's budget reports it. */
const DOWNGRADE_ACTIONS: Record<NonNullable<RoutePlan['downgrade']>, string> = {
  taken: 'downgraded to the cheaper route',
  blocked_by_floor: 'downgrade blocked by the quality floor: route kept',
};

/** A call's budget on the service's ledger; built by `BudgetService.forCall`. */
export class LedgerCallBudget implements CallBudget {
  /** The budget as planned (the tier's downgrade said), then with every target a reservation skipped. */
  snapshot: BudgetSnapshot | undefined;

  constructor(
    private readonly service: BudgetService,
    private readonly assessment: BudgetAssessment,
    private readonly plan: RoutePlan,
  ) {
    this.snapshot = plan.downgrade && assessment.snapshot ? { ...assessment.snapshot, action: DOWNGRADE_ACTIONS[plan.downgrade] } : assessment.snapshot;
  }

  reserve(model: CompiledModel): MaybePromise<AttemptReservation | DoesNotFit> {
    const held = this.service.reserve(this.assessment, worstCaseCostMicros(model, this.plan.needs), this.plan.trafficClass);
    return held instanceof Promise ? held.then((h) => this.toAttempt(model, h)) : this.toAttempt(model, held);
  }

  private toAttempt(model: CompiledModel, held: BudgetReservation | DoesNotFit): AttemptReservation | DoesNotFit {
    if (held.fits) return new LedgerAttemptReservation(this.service, held, model, this.plan);
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
    private readonly held: BudgetReservation,
    private readonly model: CompiledModel,
    private readonly plan: RoutePlan,
  ) {}

  bound(request: ChatCompletionRequest): ChatCompletionRequest {
    // A stated limit (max_tokens or max_completion_tokens) is what was reserved already.
    if (this.plan.needs.requestedMaxOutputTokens !== undefined) return request;
    return { ...request, max_tokens: outputAllowance(this.model, this.plan.needs) };
  }

  settle(tokens: TokenCount): void {
    this.end(tokenCostMicros(tokens.promptTokens, tokens.completionTokens, this.model.price));
  }

  release(): void {
    this.end(0);
  }

  private end(actualMicros: number): void {
    if (this.ended) return;
    this.ended = true;
    this.service.settle(this.held, actualMicros);
  }
}
