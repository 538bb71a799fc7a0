import { Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { BudgetMoved } from '../budget/budget-moved.js';
import type { AttemptReservation, CallBudget, DoesNotFit } from '../budget/call-budget.js';
import { costCeilingBreach } from '../budget/worst-case-cost.js';
import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import type { RoutingContext } from '../context/routing-context.js';
import { UpstreamFailure } from '../errors/upstream-failure.js';
import type { CompiledModel, CompiledPolicy } from '../policy/compiled-policy.js';
import type { RoutePlan } from '../planning/route-plan.js';
import type { Transport } from '../providers/http/transport.interface.js';
import type { ProviderTarget } from '../providers/provider-targets.js';
import { callTracer } from '../telemetry/call-tracer.js';
import type { RoutingRecorder } from '../telemetry/routing-record.recorder.js';
import { RoutedCall } from './routed-call.js';
import { backoffDelay } from './backoff.js';
import { CallState } from './call-state.js';
import type { CircuitGate, CircuitStateStore } from './circuit/circuit-state.store.js';
import { CATEGORY_RULES } from '../errors/failure-category.js';
import type { RoutedOutput } from './route-outcome.js';
import { fitContext } from '../planning/context-fit.js';
import { NO_NOTES } from '../shared/no-notes.js';

/** What admitted an attempt: its circuit gate and, for budgeted tenants, its reservation. */
export interface Admission {
  readonly gate: CircuitGate;
  readonly reservation?: AttemptReservation;
}

/** An attempt's admission (or the store's pending answer), and the request it sends with the notes on fitting it. */
export interface Admitted {
  readonly admission: Admission | Observable<Admission>;
  readonly request: ChatCompletionRequest;
  readonly notes: readonly string[];
}

/** What a call needs of its policy beyond the plan: taken once at its start, so a reload never changes a call in flight. */
export interface ExecutionPolicy {
  readonly policy: CompiledPolicy;
  readonly targets: ReadonlyMap<string, ProviderTarget>;
}

export interface RouteExecutorDeps extends ExecutionPolicy {
  readonly transport: Transport;
  readonly circuits: CircuitStateStore;
  readonly recorder: RoutingRecorder;
  readonly scheduler: SchedulerLike;
  readonly random: () => number;
}

/**
 * The routing pipeline for one planned call:
 * per candidate, gate on its circuit, attempt with timeouts, categorize,
 * retry the same target or switch to the next (RoutedCall runs it),
 * all inside the class's attempt budget and total deadline.
 */
export class RouteExecutor {
  constructor(private readonly deps: RouteExecutorDeps) {}

  execute(
    plan: RoutePlan,
    request: ChatCompletionRequest,
    context: RoutingContext,
    requestId: string,
    stream: boolean,
    budget?: CallBudget,
    /** The policy generation the plan was made under; the executor's own by default. */
    on: ExecutionPolicy = this.deps,
    /** The call planned again when its first reservation finds the budget moved (a budget decided on the last known balance). */
    replan?: (moved: BudgetMoved) => Observable<RoutedOutput>,
  ): Observable<RoutedOutput> {
    const { scheduler } = this.deps;
    const cls = plan.trafficClass;
    // One object runs the call (see RoutedCall): this runs on every LLM call,
    // and each rxjs operator layer cost a subscriber and closures per call.
    return new Observable<RoutedOutput>((subscriber) => {
      const now = scheduler.now();
      const call = new CallState(requestId, now, now + cls.deadlineMs, plan, context, stream, scheduler, budget);
      call.on = on;
      call.trace = callTracer.startCall(plan, context, requestId, stream);
      return new RoutedCall(this, this.deps, call, request, subscriber, replan).start();
    });
  }

  /**
   * What admits an attempt on `model` (see `admission`), with the request it sends:
   * the request as fitted to the target's window, for a session turn. A
   * refusal is thrown as its categorized failure.
   * @internal for RoutedCall
   */
  admit(model: CompiledModel, call: CallState, request: ChatCompletionRequest): Admitted {
    // Only a session turn's history is fitted per target; other calls were fitted by the planner.
    const fit = call.plan.contextFit === undefined ? undefined : this.fitted(model, call, request);
    return { admission: this.admission(model, call), request: fit?.request ?? request, notes: fit?.notes ?? NO_NOTES };
  }

  /**
   * A session turn's history against this target's window (see RoutePlan.contextFit):
   * as it is, trimmed (said in the attempt's notes), or refused as `context_length`
   * before anything is reserved.
   */
  private fitted(model: CompiledModel, call: CallState, request: ChatCompletionRequest): { request: ChatCompletionRequest; notes: readonly string[] } {
    const mode = call.plan.contextFit ?? 'refuse';
    // The plan's estimate is the request's: no second pass over the messages.
    const fit = fitContext(request, model, mode, call.plan.needs);
    if (!fit.fits) {
      throw this.recordSkip(model, call, new UpstreamFailure({ category: 'context_length', code: 'context_length_exceeded', message: `${model.name}: ${fit.reason}` }));
    }
    if (fit.droppedMessages === 0) return { request, notes: NO_NOTES };
    return {
      request: fit.request,
      notes: [`trimmed: dropped the ${fit.droppedMessages} oldest messages (whole turns; system prompt and latest turn kept) to fit ${model.name}'s context window of ${model.contextWindow}`],
    };
  }

  /**
   * Checks made before any call: an open circuit the store knows of without a
   * round trip, the cost ceiling, the budget reservation, then the target's
   * circuit gate (last, so a budget refusal never takes a probe lease).
   * Synchronous stores answer synchronously (no Observable on the common path);
   * a refusal is thrown as its categorized failure.
   */
  private admission(model: CompiledModel, call: CallState): Admission | Observable<Admission> {
    const { plan } = call;
    const cls = plan.trafficClass;
    // One reading of the clock for the synchronous checks (each costs ~0.2 µs on a busy VM); an answer that waited reads it again.
    const now = this.deps.scheduler.now();
    if (this.deps.circuits.isOpen?.(model.name, now) === true) throw this.circuitOpen(model, call);
    const breach = costCeilingBreach(model, plan, cls);
    if (breach !== undefined) {
      throw this.recordSkip(model, call, new UpstreamFailure({ category: 'cost_ceiling_exceeded', message: `${model.name}: ${breach}` }));
    }
    const onGate = (g: CircuitGate, reservation: AttemptReservation | undefined): Admission => {
      if (g !== 'reject') return reservation ? { gate: g, reservation } : { gate: g };
      reservation?.release();
      throw this.circuitOpen(model, call);
    };
    const gate = (reservation: AttemptReservation | undefined, at: number = this.deps.scheduler.now()): Admission | Observable<Admission> => {
      const g = this.deps.circuits.acquire(model.name, at, cls.attemptTimeoutMs);
      return g instanceof Promise ? this.gateAsync(g, reservation, onGate) : onGate(g, reservation);
    };
    if (!call.budget) return gate(undefined, now);
    const reserved = call.budget.reserve(model);
    if (!(reserved instanceof Promise)) return gate(this.granted(model, call, reserved), now);
    return this.reserveAsync(model, call, reserved, gate);
  }

  /** A reservation, or the categorized refusal thrown. */
  private granted(model: CompiledModel, call: CallState, outcome: AttemptReservation | DoesNotFit): AttemptReservation {
    if (!outcome.fits) {
      // The code says which limit refused it: one code for the daily cap, whether refused here or before planning.
      const code = outcome.limit === 'day' ? 'daily_cap_exhausted' : 'insufficient_quota';
      throw this.recordSkip(model, call, new UpstreamFailure({ category: 'budget_reservation_denied', code, message: `${model.name}: ${outcome.reason}` }));
    }
    return outcome;
  }

  /**
   * An asynchronous store's reservation, then its gate, as one Observable (an
   * operator chain cost ~3.8 kB more per budgeted call): a reservation granted
   * after the caller went away is released at once, never left booked.
   */
  private reserveAsync(
    model: CompiledModel,
    call: CallState,
    pending: Promise<AttemptReservation | DoesNotFit>,
    gate: (reservation: AttemptReservation) => Admission | Observable<Admission>,
  ): Observable<Admission> {
    return answerOf(pending, (outcome) => gate(this.granted(model, call, outcome)), (outcome) => outcome?.fits && outcome.release());
  }

  /**
   * A shared circuit store's answer (it takes a half-open probe with a round
   * trip): when the caller went away meanwhile, the attempt's reservation is
   * released at once, never left booked until its lease runs out. A probe
   * taken for it lapses after its lease (the attempt timeout).
   */
  private gateAsync(
    pending: Promise<CircuitGate>,
    reservation: AttemptReservation | undefined,
    onGate: (g: CircuitGate, reservation: AttemptReservation | undefined) => Admission,
  ): Observable<Admission> {
    return answerOf(pending, (g) => onGate(g, reservation), () => reservation?.release());
  }

  private circuitOpen(model: CompiledModel, call: CallState): UpstreamFailure {
    return this.recordSkip(model, call, new UpstreamFailure({ category: 'circuit_open', message: `${model.name}: circuit open, skipped without a call` }));
  }

  private recordSkip(model: CompiledModel, call: CallState, failure: UpstreamFailure): UpstreamFailure {
    // A wait meant for a retry that never happened is not this skip's, nor the next attempt's.
    call.takeWait();
    call.attempts.push({ model: model.name, provider: model.provider.name, outcome: 'skipped', category: failure.category, code: failure.code, message: failure.message, latencyMs: 0 });
    call.trace?.skipped(model, failure);
    return failure;
  }

  /**
   * The wait before retrying the same target, or undefined to move on: a retry only when the category allows it and
   * the wait fits the deadline.
   * @internal for RoutedCall
   */
  retryWait(err: unknown, retryNumber: number, call: CallState): number | undefined {
    const cls = call.plan.trafficClass;
    if (!(err instanceof UpstreamFailure) || err.afterFirstChunk || !CATEGORY_RULES[err.category].retrySame || call.calls >= cls.maxAttempts) {
      return undefined;
    }
    const remaining = call.deadlineAt - this.deps.scheduler.now();
    const wait = err.retryAfterMs ?? backoffDelay(cls.backoff, retryNumber, this.deps.random);
    // A Retry-After longer than the time left means: switch now rather than wait and miss the deadline.
    if (wait >= remaining) return undefined;
    call.pendingWaitMs = wait;
    return wait;
  }

  /**
   * Where to go after a target failed for good: the next candidate, a filtered list, or nowhere.
   * @internal for RoutedCall
   */
  nextAfterFailure(
    err: unknown,
    candidates: readonly CompiledModel[],
    index: number,
    call: CallState,
  ): { candidates: readonly CompiledModel[]; index: number } | undefined {
    if (!(err instanceof UpstreamFailure) || err.afterFirstChunk) return undefined;
    const cls = call.plan.trafficClass;
    if (call.calls >= cls.maxAttempts || this.deps.scheduler.now() >= call.deadlineAt) return undefined;
    switch (CATEGORY_RULES[err.category].switchTarget) {
      case 'no':
        return undefined;
      case 'if_class_allows':
        if (!cls.switchOnContentFilter) return undefined;
        break;
      case 'larger_context': {
        const failed = candidates[index]!;
        const larger = candidates.slice(index + 1).filter((m) => m.contextWindow > failed.contextWindow);
        return larger.length > 0 ? { candidates: larger, index: 0 } : undefined;
      }
      case 'yes':
        break;
    }
    return index + 1 < candidates.length ? { candidates, index: index + 1 } : undefined;
  }
}

/**
 * A store's pending answer as an Observable of `next(answer)`; when `next`
 * answers an Observable (a second store's pending answer), of what that one
 * emits. When the subscriber is gone before the answer comes, `abandoned`
 * gets it (undefined when the store failed) so that what it holds is given
 * back; after, leaving unsubscribes from the second.
 */
function answerOf<T, R>(pending: Promise<T>, next: (answer: T) => R | Observable<R>, abandoned: (answer: T | undefined) => unknown): Observable<R> {
  return new Observable<R>((subscriber) => {
    let cancelled = false;
    let inner: Subscription | undefined;
    pending.then(
      (answer) => {
        if (cancelled) return void abandoned(answer);
        let value: R | Observable<R>;
        try {
          value = next(answer);
        } catch (err) {
          return subscriber.error(err);
        }
        if (value instanceof Observable) {
          inner = value.subscribe({ next: (v) => subscriber.next(v), error: (err: unknown) => subscriber.error(err), complete: () => subscriber.complete() });
        }
        else {
          subscriber.next(value);
          subscriber.complete();
        }
      },
      (err: unknown) => (cancelled ? void abandoned(undefined) : subscriber.error(err)),
    );
    return () => {
      cancelled = true;
      inner?.unsubscribe();
    };
  });
}
