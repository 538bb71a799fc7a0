import type { SchedulerLike, Unsubscribable } from 'rxjs';
import type { AttemptReservation } from '../budget/call-budget.js';
import type { ChatCompletionRequest } from '../chat/chat-completion.types.js';
import { CATEGORY_RULES } from '../errors/failure-category.js';
import { UpstreamFailure } from '../errors/upstream-failure.js';
import type { CompiledModel } from '../policy/compiled-policy.js';
import type { Transport } from '../providers/http/transport.interface.js';
import { carryConversation } from '../providers/carry-conversation.js';
import type { AttemptSpan } from '../telemetry/call-tracer.js';
import type { AttemptRecord, SessionMove } from '../telemetry/routing-record.js';
import { UpstreamAttempt, type AttemptListener } from './attempt.js';
import { AttemptTimer, type TimeoutListener } from './attempt-timeout.js';
import type { CallState } from './call-state.js';
import type { CircuitGate, CircuitStateStore } from './circuit/circuit-state.store.js';
import type { RouteOutcome, RoutedOutput } from './route-outcome.js';
import type { AttemptOutput } from './routed-event.js';
import { NO_NOTES } from '../shared/no-notes.js';

/** Who hears of an attempt: its outputs, then one end. */
export interface AttemptOwner {
  attemptOutput(routed: RoutedOutput): void;
  attemptFailed(err: unknown): void;
  attemptDone(): void;
}

/** What an attempt needs of the executor. */
export interface TargetAttemptDeps {
  readonly scheduler: SchedulerLike;
  readonly circuits: CircuitStateStore;
  readonly transport: Transport;
}

/**
 * One admitted attempt on one target with its bookkeeping: its timeouts, the
 * commit of the call to this target on its first output, and its settle
 * (attempt record, budget, circuit) once, however it ends. One object is the
 * upstream call's listener, its timer's and the caller's teardown: a stream
 * holds it for its whole life, where an operator layer per role cost a
 * subscriber and closures each.
 */
export class TargetAttempt implements AttemptListener, TimeoutListener, Unsubscribable {
  private readonly startedAt: number;
  private readonly waitedMs: number;
  private readonly span: AttemptSpan | undefined;
  /** What fitting and carrying the request to this target did, for its record (set by `start`). */
  private notes: readonly string[] = NO_NOTES;
  private readonly upstream: UpstreamAttempt;
  private readonly timer: AttemptTimer;
  private outputs = 0;
  private settled = false;

  constructor(
    private readonly deps: TargetAttemptDeps,
    private readonly call: CallState,
    private readonly model: CompiledModel,
    private readonly gate: CircuitGate,
    private readonly reservation: AttemptReservation | undefined,
    private readonly owner: AttemptOwner,
  ) {
    const { scheduler } = deps;
    const cls = call.plan.trafficClass;
    this.startedAt = scheduler.now();
    this.waitedMs = call.takeWait();
    call.calls++;
    this.span = call.trace?.attempt(model);
    this.timer = call.stream
      ? new AttemptTimer(cls.firstByteTimeoutMs, cls.attemptTimeoutMs, scheduler, this, this.startedAt)
      : new AttemptTimer(cls.attemptTimeoutMs, undefined, scheduler, this, this.startedAt);
    this.upstream = new UpstreamAttempt(call.on!.targets.get(model.name)!, call.stream, this);
  }

  /**
   * Sends `fittedRequest` (the request as fitted to this target, `fitNotes`
   * saying how) as this target takes it, once the timer is armed. The request
   * is not kept: a stream holds its attempt for its whole life.
   */
  start(fittedRequest: ChatCompletionRequest, fitNotes: readonly string[]): void {
    const { model, reservation } = this;
    // The conversation as this target's kind can take it (provider-specific state dropped, tool ids it would refuse rewritten).
    const carried = carryConversation(fittedRequest, model.provider.kind);
    this.notes = carried.notes.length === 0 ? fitNotes : [...fitNotes, ...carried.notes];
    // A budgeted call never lets the provider produce more than was reserved.
    const request = reservation ? reservation.bound(carried.request) : carried.request;
    const firstByteTimeoutMs = Math.min(this.call.plan.trafficClass.firstByteTimeoutMs, model.provider.timeouts.firstByteMs);
    this.timer.start();
    this.upstream.start(this.deps.transport, request, firstByteTimeoutMs, this.span?.headers);
  }

  output(output: AttemptOutput): void {
    this.timer.value();
    this.outputs++;
    const { call } = this;
    if (call.outcome === undefined) {
      // Committed: from here this target's answer is the answer.
      call.served = this.model;
      call.outcome = commitOutcome(call, this.model);
    }
    this.owner.attemptOutput({ output, outcome: call.outcome });
  }

  failed(err: unknown): void {
    this.timer.stop();
    this.settle('failure', err instanceof UpstreamFailure ? err : undefined);
    this.owner.attemptFailed(err);
  }

  done(): void {
    this.timer.stop();
    this.settle('success');
    this.owner.attemptDone();
  }

  timedOut(): void {
    const failure = this.timeoutFailure();
    this.settle('failure', failure);
    this.upstream.unsubscribe();
    this.owner.attemptFailed(failure);
  }

  /** The owner's teardown: a call still running is aborted, and settled as such. */
  unsubscribe(): void {
    this.timer.stop();
    this.upstream.unsubscribe();
    this.settle('aborted');
  }

  private timeoutFailure(): UpstreamFailure {
    const { model, call } = this;
    const cls = call.plan.trafficClass;
    if (call.stream && this.outputs === 0 && !this.upstream.answered) {
      // A stream with no response head: the transport's first-byte timeout, whichever of the two timers fired first
      // (a JSON call's timer is the whole answer's, not a first-byte limit).
      return new UpstreamFailure({ category: 'transient', code: 'first_byte_timeout', message: `${model.name}: no response within ${this.timer.firstMs} ms` });
    }
    return this.outputs === 0
      ? new UpstreamFailure({ category: 'transient', code: 'attempt_timeout', message: `${model.name}: no ${call.stream ? 'first chunk' : 'response'} within ${this.timer.firstMs} ms` })
      : new UpstreamFailure({ category: 'stream_interrupted', code: 'stream_stalled', message: `${model.name}: stream stalled for ${cls.attemptTimeoutMs} ms after ${this.outputs} chunks`, afterFirstChunk: true });
  }

  private settle(outcome: 'success' | 'failure' | 'aborted', failure?: UpstreamFailure): void {
    if (this.settled) return;
    this.settled = true;
    const { call, model, reservation } = this;
    const endedAt = this.deps.scheduler.now();
    const record = attemptRecord(model, outcome, failure, endedAt - this.startedAt, this.waitedMs, this.notes);
    call.attempts.push(record);
    this.span?.end(record, call.served === model ? call.tokens() : undefined);
    // Book what this attempt cost (nothing unless it served output) and release the rest.
    if (reservation) {
      if (call.served === model) call.settleAfterRecord(reservation.account(call.tokens()));
      else reservation.release();
    }
    if (outcome === 'success') this.recordCircuit(endedAt);
    else if (failure) this.recordCircuit(endedAt, failure);
  }

  private recordCircuit(at: number, failure?: UpstreamFailure): void {
    const { circuits } = this.deps;
    const name = this.model.name;
    if (!failure) return settleStore(circuits.recordSuccess(name));
    const rule = CATEGORY_RULES[failure.category];
    if (!rule.tripsCircuit) {
      // The target answered (a bad request, a filter): a probe has shown it alive.
      if (this.gate === 'probe' && failure.status !== undefined) settleStore(circuits.recordSuccess(name));
      return;
    }
    const { circuit } = this.call.on!.policy;
    settleStore(
      circuits.recordFailure(name, {
        now: at,
        failureThreshold: circuit.failureThreshold,
        cooldownMs: circuit.cooldownMs,
        openNow: rule.markUnhealthy || this.gate === 'probe',
      }),
    );
  }
}

/**
 * The outcome of the call `model` serves. Optional fields are assigned, in
 * the order the caller sees them, rather than spread in: once per call.
 */
function commitOutcome(call: CallState, model: CompiledModel): RouteOutcome {
  const { plan } = call;
  const outcome: { -readonly [K in keyof RouteOutcome]: RouteOutcome[K] } = {
    requestId: call.requestId,
    trafficClass: plan.trafficClass.name,
    model: model.name,
    provider: model.provider.name,
    upstreamModel: model.upstreamModel,
    fallback: model !== plan.candidates[0],
    attempts: call.calls,
  };
  const budget = call.budget?.snapshot;
  if (budget) outcome.budget = budget;
  if (plan.requestedExclusion) outcome.requestedModelExcluded = plan.requestedExclusion;
  if (plan.policyVersion !== undefined) outcome.policyVersion = plan.policyVersion;
  const moved = sessionMove(call, model);
  if (moved) outcome.sessionMoved = moved;
  return outcome;
}

/** A session turn served by another target than its pin: from which, to which, and why (the plan's reason, or the pin's last failure). */
function sessionMove(call: CallState, served: CompiledModel): SessionMove | undefined {
  const pin = call.plan.sessionTarget;
  if (pin === undefined || pin.target === served.name) return undefined;
  let reason = pin.returning ?? pin.unavailable;
  if (reason === undefined) {
    const failed = lastAttemptOn(call.attempts, pin.target);
    reason = failed ? `${failed.category ?? failed.outcome}${failed.status ? ` (HTTP ${failed.status})` : ''} on ${pin.target}` : `${pin.target} was not tried`;
  }
  return { from: pin.target, to: served.name, reason };
}

function lastAttemptOn(attempts: readonly AttemptRecord[], model: string): AttemptRecord | undefined {
  for (let i = attempts.length - 1; i >= 0; i--) if (attempts[i]!.model === model) return attempts[i];
  return undefined;
}

/**
 * One attempt's record: a failure's four fields (present even when undefined),
 * the wait and the notes only when there are some. Assigned in order, not
 * spread in: once per attempt.
 */
function attemptRecord(
  model: CompiledModel,
  outcome: 'success' | 'failure' | 'aborted',
  failure: UpstreamFailure | undefined,
  latencyMs: number,
  waitedMs: number,
  notes: readonly string[],
): AttemptRecord {
  const record: { -readonly [K in keyof AttemptRecord]: AttemptRecord[K] } = failure
    ? { model: model.name, provider: model.provider.name, outcome, category: failure.category, status: failure.status, code: failure.code, message: failure.message, latencyMs }
    : { model: model.name, provider: model.provider.name, outcome, latencyMs };
  if (waitedMs > 0) record.waitedMs = waitedMs;
  if (notes.length > 0) record.notes = notes;
  return record;
}

/** Circuit bookkeeping is best effort: a store outage must not fail the call it describes. */
function settleStore(result: void | Promise<void>): void {
  if (result instanceof Promise) result.catch(() => undefined);
}
