import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { catchError, defer, finalize, from, lastValueFrom, map, mergeMap, throwError, type Observable, type SchedulerLike } from 'rxjs';
import type { BudgetAssessment, BudgetService } from '../budget/budget.service.js';
import type { CallerBudget } from '../budget/budget.types.js';
import type { TenantBudgets } from '../budget/tenant-budgets.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, Usage } from '../chat/chat-completion.types.js';
import type { RoutingContext } from '../context/routing-context.js';
import { RoutingContextStore } from '../context/routing-context.store.js';
import { newRequestId } from '../context/request-id.js';
import { LlmRouterError } from '../errors/llm-router.error.js';
import type { CircuitSnapshot, CircuitStateStore } from '../execution/circuit/circuit-state.store.js';
import type { RouteExecutor } from '../execution/route-executor.js';
import type { RouteOutcome } from '../execution/route-outcome.js';
import { timeoutScheduler } from '../execution/timeout-scheduler.js';
import type { CompiledPolicy } from '../policy/compiled-policy.js';
import { describePolicy } from '../policy/describe-policy.js';
import type { RoutingRecord } from '../telemetry/routing-record.js';
import type { RoutingRecorder } from '../telemetry/routing-record.recorder.js';
import { unplannedRecord } from '../telemetry/unplanned-record.js';
import { deriveRequestNeeds } from '../planning/request-needs.js';
import type { RecordedNeeds } from '../planning/request-with-needs.js';
import type { LivePolicy, PolicyGeneration, PolicyVersion } from './live-policy.js';
import { explainRoute, type RoutingExplanation } from './route-explanation.js';
import { LLM_ROUTER_PARTS } from './llm-router.tokens.js';

/** Per-call options; each field overrides the request context set by the decorators. */
export interface RouteOptions extends RoutingContext {
  /** The caller's own budget inside the tenant's (an API key's): reserved and settled with it, refused once spent. */
  callerBudget?: CallerBudget;
}

export interface RoutedCompletion {
  readonly completion: ChatCompletion;
  readonly outcome: RouteOutcome;
  /** `completion` as JSON text, when the provider's own bytes could be reused (OpenAI-format upstreams). */
  readonly json?: string;
  /** The call's cost at the serving model's price, as its routing record books it; absent when the provider reported no usage. */
  readonly costUsd?: number;
}

export interface RoutedChunk {
  readonly chunk: ChatCompletionChunk;
  readonly outcome: RouteOutcome;
  /** Set on the chunk that carries the provider's usage report. */
  readonly usage?: Usage;
  /** `chunk` as JSON text, when the provider's own bytes could be reused (OpenAI-format upstreams). */
  readonly json?: string;
}

/** What a router is made of: the module builds each part in Nest's container, `createLlmRouter` by hand. */
export interface LlmRouterParts {
  /** The current policy and its planner, swapped atomically on a reload. */
  readonly live: LivePolicy;
  readonly executor: RouteExecutor;
  readonly budgets: BudgetService;
  readonly recorder: RoutingRecorder;
  readonly circuits: CircuitStateStore;
  /** Virtual time in tests; the async scheduler otherwise. */
  readonly scheduler?: SchedulerLike;
  /** Called by `close()` after the router's own parts: releases what the builder created (a default transport). */
  readonly onClose?: () => void;
}

/**
 * Routes chat completions by the policy of their traffic class. Inject it
 * anywhere below a handler decorated with `@TrafficClass()`: the class,
 * quality floor, tenant, feature and session come from the request context.
 * Without Nest, build one with `createLlmRouter({ policy })`.
 */
@Injectable()
export class LlmRouter implements OnApplicationShutdown {
  /** The policy in force (a reload swaps it; a call keeps the one it started with). */
  get policy(): CompiledPolicy {
    return this.live.current().policy;
  }

  /** The version of the policy in force. */
  get policyVersion(): PolicyVersion {
    return this.live.current().version;
  }

  /** The owner of the current policy: swap a compiled candidate in, watch the swaps. */
  readonly live: LivePolicy;
  /** Tenant budgets: set them, read their state, restore spend, watch threshold events. */
  readonly budgets: TenantBudgets;
  /** Every routed call's record, successful or not. */
  readonly records$: Observable<RoutingRecord>;
  /** The same budgets as `budgets`, with what a call needs of them: assessment, reservations. */
  private readonly budgetService: BudgetService;
  private readonly executor: RouteExecutor;
  private readonly recorder: RoutingRecorder;
  private readonly circuits: CircuitStateStore;
  private readonly scheduler: SchedulerLike;
  private readonly onClose: (() => void) | undefined;

  constructor(@Inject(LLM_ROUTER_PARTS) parts: LlmRouterParts) {
    this.live = parts.live;
    // Tenant budgets written in the policy follow it (BudgetService owns them).
    this.live.changes$.subscribe((generation) => this.budgetService.usePolicy(generation.policy));
    this.executor = parts.executor;
    this.budgets = this.budgetService = parts.budgets;
    this.recorder = parts.recorder;
    this.records$ = parts.recorder.records$;
    this.circuits = parts.circuits;
    this.scheduler = parts.scheduler ?? timeoutScheduler;
    this.onClose = parts.onClose;
  }

  /** One completion. Unsubscribing aborts the upstream call in flight. */
  completion$(request: ChatCompletionRequest, options?: RouteOptions): Observable<RoutedCompletion> {
    return this.route(request, options, false).pipe(
      map((routed) => {
        if (routed.output.type !== 'completion') throw new Error('unexpected stream output');
        const { completion, json } = routed.output;
        const result: { -readonly [K in keyof RoutedCompletion]: RoutedCompletion[K] } = { completion, outcome: routed.outcome };
        if (json !== undefined) result.json = json;
        if (routed.costUsd !== undefined) result.costUsd = routed.costUsd;
        return result;
      }),
    );
  }

  /**
   * A streamed completion. A failure before the first chunk may switch target;
   * after it, the stream errors with `stream_interrupted`: never a silent end,
   * never an answer spliced from two models.
   */
  stream$(request: ChatCompletionRequest, options?: RouteOptions): Observable<RoutedChunk> {
    return this.route(request, options, true).pipe(
      map(({ output, outcome }) => {
        // A streamed attempt only ever yields chunks (mirrors the check in completion$).
        if (output.type !== 'chunk') throw new Error('unexpected completion output on a stream');
        const routed: { chunk: ChatCompletionChunk; outcome: RouteOutcome; usage?: Usage; json?: string } = { chunk: output.chunk, outcome };
        if (output.usage) routed.usage = output.usage;
        if (output.json !== undefined) routed.json = output.json;
        return routed;
      }),
    );
  }

  /** Promise form of `completion$`. */
  complete(request: ChatCompletionRequest, options?: RouteOptions): Promise<RoutedCompletion> {
    return lastValueFrom(this.completion$(request, options));
  }

  /**
   * Where this call would go, and why, without calling anyone and without
   * spending: the same planner and admission checks as a real call, on the
   * policy, budgets and circuits as they are now. `classSource` says where
   * the caller's class came from (an app that resolves it itself).
   */
  async explain(request: ChatCompletionRequest, options?: RouteOptions, classSource?: string): Promise<RoutingExplanation> {
    const generation = this.live.current();
    const current = RoutingContextStore.current();
    const context: RouteOptions = options ? { ...current, ...options } : (current ?? {});
    const source =
      classSource ?? (options?.trafficClass !== undefined ? 'the call options' : current?.trafficClass !== undefined ? 'the request context (@TrafficClass)' : 'the policy default');
    let assessment: BudgetAssessment | LlmRouterError | undefined;
    try {
      assessment = await this.budgetService.assess(context.tenant, generation.planner.resolveClass(context.trafficClass), context.callerBudget);
    } catch (err) {
      // An unknown class is explained as the planner refuses it; a budget refusal, as the budget does.
      if (!(err instanceof LlmRouterError)) throw err;
      assessment = err.category === 'invalid_request' ? undefined : err;
    }
    const circuits = new Map((await this.circuits.snapshot(this.scheduler.now())).map((c) => [c.target, c.status] as const));
    return explainRoute({
      generation,
      budgets: this.budgetService,
      circuits,
      request,
      stream: request.stream === true,
      className: context.trafficClass,
      classSource: source,
      callerFloor: context.qualityFloor,
      assessment,
    });
  }

  /** The policy with every default filled in. */
  effectivePolicy(): Record<string, unknown> {
    return describePolicy(this.policy);
  }

  /**
   * Call before closing the budget ledger's connection (a shutdown, after the
   * calls in flight ended): waits for budget settles in flight and retries,
   * now, those waiting after a failure. Resolves with how many were retried.
   */
  settleOutstanding(): Promise<number> {
    return this.budgetService.settleOutstanding();
  }

  async circuitStates(): Promise<CircuitSnapshot[]> {
    return this.circuits.snapshot(this.scheduler.now());
  }

  /** Called by Nest at shutdown. */
  onApplicationShutdown(): void {
    this.close();
  }

  close(): void {
    this.recorder.complete();
    this.budgetService.close();
    this.live.close();
    this.onClose?.();
  }

  private route(request: ChatCompletionRequest, options: RouteOptions | undefined, stream: boolean) {
    return defer(() => {
      // The policy is taken once, here: the whole call (plan, attempts, record) runs on this generation.
      const generation = this.live.current();
      const current = RoutingContextStore.current();
      // The context carries `callerBudget` along when given (in the options, or in a request context an app filled); only the budget reads it.
      const context: RouteOptions = options ? { ...current, ...options } : (current ?? {});
      const requestId = context.requestId ?? newRequestId();
      const refuse = (err: unknown) => throwError(() => this.refuse(err, generation, context, requestId, stream, request));
      const proceed = (assessment: BudgetAssessment | undefined) => {
        let plan;
        try {
          plan = generation.planner.plan(request, context.trafficClass, context.qualityFloor, assessment?.downgrade ?? false);
        } catch (err) {
          return refuse(err);
        }
        return this.executor.execute(plan, request, context, requestId, stream, assessment && this.budgetService.forCall(assessment, plan), generation);
      };
      let assessed;
      try {
        assessed = this.budgetService.assess(context.tenant, generation.planner.resolveClass(context.trafficClass), context.callerBudget);
      } catch (err) {
        return refuse(err);
      }
      if (!(assessed instanceof Promise)) return proceed(assessed);
      // A caller gone while the budget store answers still leaves its record.
      let decided = false;
      return from(assessed).pipe(
        catchError((err: unknown) => {
          decided = true;
          return refuse(err);
        }),
        mergeMap((assessment) => {
          decided = true;
          return proceed(assessment);
        }),
        finalize(() => {
          if (!decided) this.recordWithoutPlan(generation, context, requestId, stream, 'aborted');
        }),
      );
    });
  }

  /** Planning or the budget refused the call: it still gets its record. */
  private refuse(err: unknown, generation: PolicyGeneration, context: RoutingContext, requestId: string, stream: boolean, request: ChatCompletionRequest): unknown {
    if (!(err instanceof LlmRouterError)) return err;
    err.requestId = requestId;
    // What routing read of the request: a refused call can be planned again (simulate, shadow) like a served one.
    this.recordWithoutPlan(generation, context, requestId, stream, 'failure', err, deriveRequestNeeds(request));
    return err;
  }

  private recordWithoutPlan(
    generation: PolicyGeneration,
    context: RoutingContext,
    requestId: string,
    stream: boolean,
    outcome: 'failure' | 'aborted',
    error?: LlmRouterError,
    needs?: RecordedNeeds,
  ): void {
    this.recorder.emit(unplannedRecord(generation.policy, { requestId, context, stream, outcome, error, policyVersion: generation.version.id, needs }));
  }
}
