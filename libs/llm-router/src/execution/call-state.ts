import type { SchedulerLike } from 'rxjs';
import { toolCallInput, toolName } from '../chat/tool-calls.js';
import type { CallBudget } from '../budget/call-budget.js';
import { tokenCostUsd, type TokenCount } from '../budget/usd.js';
import type { ChatCompletion, Usage } from '../chat/chat-completion.types.js';
import type { RoutingContext } from '../context/routing-context.js';
import type { CompiledModel } from '../policy/compiled-policy.js';
import type { RoutePlan } from '../planning/route-plan.js';
import { textTokens } from '../chat/text-tokens.js';
import { isoTime } from '../telemetry/iso-time.js';
import type { CallSpan } from '../telemetry/call-tracer.js';
import type { AttemptRecord, RoutingRecord } from '../telemetry/routing-record.js';
import type { RoutingRecorder } from '../telemetry/routing-record.recorder.js';
import type { FailureCategory } from '../errors/failure-category.js';
import type { RouteOutcome } from './route-outcome.js';
import type { AttemptOutput } from './routed-event.js';
import type { ExecutionPolicy } from './route-executor.js';
import { TimeoutScheduler } from './timeout-scheduler.js';

/** The mutable bookkeeping of one routed call; becomes its RoutingRecord. */
export class CallState {
  readonly attempts: AttemptRecord[] = [];
  /** Upstream calls actually made (skips excluded). */
  calls = 0;
  /** Wait before the next attempt, recorded on it. */
  pendingWaitMs = 0;
  outcome?: RouteOutcome;
  served?: CompiledModel;
  firstChunkAt?: number;
  usage?: Usage;
  /** Estimated tokens of the streamed answer (content and tool calls, by script): the fallback when no usage is reported. */
  private streamedTokens = 0;
  /** A JSON answer, counted only if its usage turns out unusable (most completions report it). */
  private answer?: ChatCompletion;
  result?: 'success' | 'failure';
  errorCategory?: FailureCategory;
  errorMessage?: string;
  /** The record was emitted: a settle from now on runs at once. */
  private recorded = false;
  /** The policy generation's targets and circuit settings the call runs on (set by the executor). */
  on?: ExecutionPolicy;
  /** The serving attempt's budget settle, held until the record is out. */
  private heldSettle?: () => void;
  /** The call's OpenTelemetry span; undefined when tracing is off. */
  trace?: CallSpan;

  /**
   * Runs the serving attempt's settle once the call's record is emitted (at
   * once if it already was): a settle never lands before its record, so a
   * store that keeps the record as soon as it is emitted (the gateway's
   * journal) never loses one whose cost the ledger booked.
   */
  settleAfterRecord(settle: () => void): void {
    if (this.recorded) settle();
    else this.heldSettle = settle;
  }

  /** The call is planned again (`BudgetMoved`, before any attempt was made): this one leaves no record; the new one will. */
  discard(): void {
    this.recorded = true;
    // Its span ends here: no record will end it.
    this.trace?.replanned();
    this.trace = undefined;
  }

  /**
   * Emits the record once (later calls do nothing), then the held settle: as
   * one step of the ledger's (`writeTogether`), so that a journal entry a
   * record listener writes on the ledger's connection and the settle share a write.
   */
  finish(recorder: Pick<RoutingRecorder, 'emit'>): void {
    if (this.recorded) return;
    this.recorded = true;
    const settle = this.heldSettle;
    this.heldSettle = undefined;
    if (settle === undefined || this.budget === undefined) return this.emit(recorder);
    this.budget.writeTogether(() => {
      this.emit(recorder);
      settle();
    });
  }

  private emit(recorder: Pick<RoutingRecorder, 'emit'>): void {
    const record = this.toRecord();
    recorder.emit(record);
    this.trace?.end(record, this.served);
  }

  constructor(
    readonly requestId: string,
    readonly startedAt: number,
    readonly deadlineAt: number,
    readonly plan: RoutePlan,
    readonly context: RoutingContext,
    readonly stream: boolean,
    /** The executor's scheduler: its clock times the call. */
    private readonly clock: Pick<SchedulerLike, 'now'>,
    readonly budget?: CallBudget,
  ) {}

  /** The time to wait before an attempt, consumed by the attempt that follows it. */
  takeWait(): number {
    const w = this.pendingWaitMs;
    this.pendingWaitMs = 0;
    return w;
  }

  observe(output: AttemptOutput): void {
    if (output.type === 'completion') {
      this.usage = output.completion.usage;
      this.answer = output.completion;
      return;
    }
    if (this.firstChunkAt === undefined) this.firstChunkAt = this.clock.now();
    // A chunk passed as text had its content's tokens counted by the scan that let it pass (it carries no usage: see scanChunkText).
    if (output.type === 'text') {
      this.streamedTokens += output.tokens;
      return;
    }
    if (output.usage) this.usage = output.usage;
    for (const choice of output.chunk.choices) {
      const delta = choice.delta;
      if (delta.content) this.streamedTokens += textTokens(delta.content);
      if (delta.tool_calls) {
        for (const t of delta.tool_calls) {
          this.streamedTokens += textTokens(t.function?.arguments ?? t.custom?.input ?? '') + textTokens(t.function?.name ?? t.custom?.name ?? '');
        }
      }
    }
  }

  /**
   * Tokens of the serving attempt. A stream is never charged zero: without
   * reported usage, the prompt estimate and the delivered text are counted.
   */
  tokens(): TokenCount & { estimated: boolean } {
    if (this.served === undefined) return { promptTokens: 0, completionTokens: 0, estimated: false };
    // An all-zero usage next to delivered text is no usage report at all.
    const usage = this.usage && (this.usage.total_tokens > 0 || this.usage.prompt_tokens + this.usage.completion_tokens > 0 || this.deliveredTokens() === 0) ? this.usage : undefined;
    return {
      promptTokens: usage?.prompt_tokens ?? this.plan.needs.estimatedPromptTokens,
      completionTokens: usage?.completion_tokens ?? Math.ceil(this.deliveredTokens()),
      estimated: usage === undefined,
    };
  }

  /** Estimated tokens of answer delivered, streamed or in one completion. */
  private deliveredTokens(): number {
    let tokens = this.streamedTokens;
    for (const choice of this.answer?.choices ?? []) {
      tokens += textTokens(choice.message.content ?? '');
      for (const t of choice.message.tool_calls ?? []) tokens += textTokens(toolName(t)) + textTokens(toolCallInput(t));
    }
    return tokens;
  }

  /** What the serving attempt cost, in US dollars (0 when nothing served): the figure its budget settle books. */
  costUsd(tokens: TokenCount = this.tokens()): number {
    if (this.served === undefined) return 0;
    return tokenCostUsd(tokens, this.served.price);
  }

  toRecord(): RoutingRecord {
    const { plan, context } = this;
    const tokens = this.tokens();
    const elapsed = this.clock.now() - this.startedAt;
    // On the wall clock the start is the scheduler's own reading; on another (virtual time), the wall clock less the elapsed time.
    const startedAtMs = this.clock instanceof TimeoutScheduler ? this.startedAt : Date.now() - elapsed;
    const record: { -readonly [K in keyof RoutingRecord]: RoutingRecord[K] } = {
      requestId: this.requestId,
      startedAt: isoTime(startedAtMs),
      startedAtMs,
      tenant: context.tenant,
      feature: context.feature,
      session: context.session,
      labels: context.labels,
      trafficClass: plan.trafficClass.name,
      criticality: plan.trafficClass.criticality,
      qualityFloor: plan.floor,
      stream: this.stream,
      requestedModel: plan.requestedModel,
      plannedRoute: plan.candidates.map((m) => m.name),
      excluded: plan.excluded,
      attempts: this.attempts,
      servedBy: this.served
        ? { model: this.served.name, provider: this.served.provider.name, upstreamModel: this.served.upstreamModel }
        : undefined,
      fallback: this.outcome?.fallback ?? false,
      outcome: this.result ?? 'aborted',
      errorCategory: this.errorCategory,
      errorMessage: this.errorMessage,
      promptTokens: tokens.promptTokens,
      completionTokens: tokens.completionTokens,
      usageEstimated: tokens.estimated,
      costUsd: this.costUsd(tokens),
      latencyMs: elapsed,
      firstChunkMs: this.firstChunkAt === undefined ? undefined : this.firstChunkAt - this.startedAt,
    };
    if (this.budget?.snapshot) record.budget = this.budget.snapshot;
    if (plan.sessionTarget) record.sessionTarget = plan.sessionTarget.target;
    if (this.outcome?.sessionMoved) record.sessionMove = this.outcome.sessionMoved;
    if (plan.policyVersion !== undefined) record.policyVersion = plan.policyVersion;
    record.needs = plan.needs;
    return record;
  }
}
