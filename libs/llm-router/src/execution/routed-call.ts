import { Observable, type SchedulerAction, type Subscriber, type Subscription, type Unsubscribable } from 'rxjs';
import { BudgetMoved } from '../budget/budget-moved.js';
import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { UpstreamFailure } from '../errors/upstream-failure.js';
import type { CompiledModel } from '../policy/compiled-policy.js';
import type { CallState } from './call-state.js';
import type { RoutedOutput } from './route-outcome.js';
import type { Admission, Admitted, RouteExecutor, RouteExecutorDeps } from './route-executor.js';
import { TargetAttempt, type AttemptOwner } from './target-attempt.js';
import { toRouterError } from './to-router-error.js';

/**
 * One routed call's run, as one object: per candidate, admit and attempt,
 * retry the same target while its failure allows (after the backoff wait),
 * then switch to the next, all inside the class's deadline; each output
 * observed, and the call's record left once, whatever its end.
 *
 * It replaced `defer` + `retry` per target, `catchError` per switch and a
 * deadline operator: a subscriber, a context and several closures each, per
 * call, held for a stream's whole life.
 */
export class RoutedCall implements AttemptOwner, Unsubscribable {
  private candidates: readonly CompiledModel[];
  private index = 0;
  /** Retries made on the current target. */
  private retries = 0;
  private attempt: TargetAttempt | undefined;
  /** An admission waiting on an asynchronous store. */
  private admission: Subscription | undefined;
  /** The backoff wait before a retry. */
  private wait: Subscription | undefined;
  private deadline: Subscription | undefined;
  /** The caller has heard the end (or left): later news of an attempt is dropped. */
  private ended = false;
  /** The caller was handed to the call planned again (see followReplan). */
  private replanned = false;

  constructor(
    private readonly executor: RouteExecutor,
    private readonly deps: RouteExecutorDeps,
    private readonly call: CallState,
    /** The prompt, until the answer started: after that no failure retries or switches (see attemptOutput). */
    private request: ChatCompletionRequest | undefined,
    private readonly subscriber: Subscriber<RoutedOutput>,
    /** A call planned on a balance the first reservation may find moved: the call planned again (see `BudgetMoved`). */
    private replan?: (moved: BudgetMoved) => Observable<RoutedOutput>,
  ) {
    this.candidates = call.plan.candidates;
  }

  /** Arms the deadline, then tries the first candidate. Returns the call's teardown (none once it handed its caller to a call planned again). */
  start(): Unsubscribable | undefined {
    this.deadline = this.deps.scheduler.schedule(deadlinePassed, Math.max(0, this.call.plan.trafficClass.deadlineMs), this);
    // A deadline of 0 on a synchronous scheduler has passed already: nothing to start.
    if (!this.ended) this.tryTarget();
    return this.replanned ? undefined : this;
  }

  attemptOutput(routed: RoutedOutput): void {
    if (this.ended) return;
    const { call } = this;
    call.observe(routed.output);
    if (routed.output.type !== 'completion') {
      // The answer started: a failure from here on ends the call (afterFirstChunk), no target is admitted or priced
      // again, so the prompt (kilobytes to hundreds of them) is let go of instead of held for the stream's life.
      if (this.request !== undefined) {
        this.request = undefined;
        call.plan.prompt.release();
      }
      return this.subscriber.next(routed);
    }
    // A completion is the whole answer: its cost is final, and the same figure the record and the budget settle use.
    // A literal, not `{ ...routed }`: the spread cost ~1 µs per call in the library micro-benchmark.
    const tokens = call.tokens();
    this.subscriber.next(tokens.estimated ? routed : { output: routed.output, outcome: routed.outcome, costUsd: call.costUsd(tokens) });
  }

  /** The target failed (refused at admission, or its attempt): retry it, switch, or fail the call. */
  attemptFailed(err: unknown): void {
    this.attempt = undefined;
    this.admission = undefined;
    if (this.ended) return;
    const { call } = this;
    if (this.retries < call.plan.trafficClass.retriesPerTarget) {
      const wait = this.executor.retryWait(err, ++this.retries, call);
      if (wait !== undefined) {
        this.wait = this.deps.scheduler.schedule(retryNow, wait, this);
        return;
      }
    }
    const next = this.executor.nextAfterFailure(err, this.candidates, this.index, call);
    if (!next) return this.fail(err);
    this.candidates = next.candidates;
    this.index = next.index;
    this.retries = 0;
    this.tryTarget();
  }

  attemptDone(): void {
    this.attempt = undefined;
    if (this.ended) return;
    this.ended = true;
    this.call.result = 'success';
    // A success's record goes out before the caller hears the call is complete
    // (and before the serving attempt's settle): a listener that keeps it at
    // once has it before the caller's last bytes are written.
    this.call.finish(this.deps.recorder);
    this.subscriber.complete();
  }

  /** The caller's teardown (after an end, or on leaving): what runs is aborted, and the call leaves its record. */
  unsubscribe(): void {
    this.ended = true;
    this.deadline?.unsubscribe();
    this.stopTarget();
    // Every call, whatever its end, leaves one record: a failure's (with the
    // attempts its teardown aborted) and a departed caller's, here.
    this.call.finish(this.deps.recorder);
  }

  /** The backoff wait is over. */
  retry(): void {
    this.wait = undefined;
    if (!this.ended) this.tryTarget();
  }

  /**
   * The deadline passed. What runs is torn down before the error goes out: an
   * attempt cut by it has been recorded (as aborted) by the time the error is
   * built and read, so what the caller is told lists the same attempts as the record.
   */
  deadlinePassed(): void {
    this.deadline = undefined;
    if (this.ended) return;
    const cls = this.call.plan.trafficClass;
    const failure = new UpstreamFailure({
      category: 'deadline_exceeded',
      message: `The "${cls.name}" deadline of ${cls.deadlineMs} ms passed`,
      afterFirstChunk: this.call.firstChunkAt !== undefined,
    });
    this.stopTarget();
    this.fail(failure);
  }

  private tryTarget(): void {
    const model = this.candidates[this.index]!;
    const prompt = this.request;
    // Unreachable: let go of once the answer started, after which nothing retries or switches.
    if (prompt === undefined) return this.fail(new Error('no target can be tried once the answer has started'));
    let admitted: Admitted;
    try {
      admitted = this.executor.admit(model, this.call, prompt);
    } catch (err) {
      return this.attemptFailed(err);
    }
    const { admission, request, notes } = admitted;
    if (!(admission instanceof Observable)) return this.startAttempt(model, admission, request, notes);
    this.admission = admission.subscribe({
      next: (a) => {
        this.admission = undefined;
        this.startAttempt(model, a, request, notes);
      },
      error: (err: unknown) => this.attemptFailed(err),
    });
  }

  private startAttempt(model: CompiledModel, { gate, reservation }: Admission, request: ChatCompletionRequest, notes: readonly string[]): void {
    // Admitted: its reservation (the first) was answered, so the budget can no longer have moved under the plan. The call
    // planned again is let go of, and with it the planning's closures (a stream would hold them for its life).
    this.replan = undefined;
    let attempt: TargetAttempt | undefined;
    try {
      // Known before it starts: an attempt that fails at once is forgotten by attemptFailed.
      attempt = this.attempt = new TargetAttempt(this.deps, this.call, model, gate, reservation, this);
      attempt.start(request, notes);
    } catch (err) {
      if (attempt === undefined) return this.attemptFailed(err);
      // It reported its failure before throwing: the call has moved on already.
      if (this.attempt !== attempt) return;
      // Thrown while starting (carrying or bounding the request): settled as failed, so that its timer, gate and
      // reservation let go, and the call moves on once.
      attempt.failed(err);
    }
  }

  private stopTarget(): void {
    this.wait?.unsubscribe();
    this.wait = undefined;
    this.admission?.unsubscribe();
    this.admission = undefined;
    const attempt = this.attempt;
    this.attempt = undefined;
    attempt?.unsubscribe();
  }

  private fail(err: unknown): void {
    this.ended = true;
    const { call } = this;
    // Planned on a budget that moved (no attempt was made): the caller follows the call planned again.
    if (err instanceof BudgetMoved && this.replan) return this.followReplan(err, this.replan);
    const routerError = toRouterError(err, call);
    call.result = 'failure';
    call.errorCategory = routerError.category;
    call.errorMessage = routerError.message;
    this.subscriber.error(routerError);
  }

  /** This call leaves no record (the new one will) and holds no timer; the caller's subscriber is handed to the new call. */
  private followReplan(moved: BudgetMoved, replan: (moved: BudgetMoved) => Observable<RoutedOutput>): void {
    this.replanned = true;
    // Already the caller's teardown when the admission answered later (an asynchronous store): let go of this call's state.
    this.subscriber.remove(this);
    this.call.discard();
    this.deadline?.unsubscribe();
    this.deadline = undefined;
    let replanned: Observable<RoutedOutput>;
    try {
      replanned = replan(moved);
    } catch (failure) {
      return this.subscriber.error(failure);
    }
    replanned.subscribe(this.subscriber);
  }
}

function deadlinePassed(this: SchedulerAction<RoutedCall>, call?: RoutedCall): void {
  call!.deadlinePassed();
}

function retryNow(this: SchedulerAction<RoutedCall>, call?: RoutedCall): void {
  call!.retry();
}
