import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
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
import type { RoutePlanner } from '../planning/route-planner.js';
import type { RoutingRecord } from '../telemetry/routing-record.js';
import type { RoutingRecorder } from '../telemetry/routing-record.recorder.js';
import { unplannedRecord } from '../telemetry/unplanned-record.js';
import { LLM_ROUTER_PARTS } from './llm-router.tokens.js';
import type { DeferredCallStore } from '../deferral/deferred-call.store.js';
import { InMemoryDeferredCallStore } from '../deferral/in-memory-deferred-call.store.js';
import { InMemoryJobQueue } from '../queue/in-memory-job-queue.js';
import type { JobQueue } from '../queue/job-queue.js';
import { DeferredCalls, type CompletedOrDeferred, type DeferOptions } from './deferred-calls.js';

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
  readonly policy: CompiledPolicy;
  readonly planner: RoutePlanner;
  readonly executor: RouteExecutor;
  readonly budgets: BudgetService;
  readonly recorder: RoutingRecorder;
  readonly circuits: CircuitStateStore;
  /** Virtual time in tests; the async scheduler otherwise. */
  readonly scheduler?: SchedulerLike;
  /** Called by `close()` after the router's own parts: releases what the builder created (a default transport). */
  readonly onClose?: () => void;
  /** The work queue and store of deferred calls; in-process when absent. */
  readonly jobQueue?: JobQueue;
  readonly deferredCallStore?: DeferredCallStore;
}

/**
 * Routes chat completions by the policy of their traffic class. Inject it
 * anywhere below a handler decorated with `@TrafficClass()`: the class,
 * quality floor, tenant, feature and session come from the request context.
 * Without Nest, build one with `createLlmRouter({ policy })`.
 */
@Injectable()
export class LlmRouter implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly policy: CompiledPolicy;
  /** Tenant budgets: set them, read their state, restore spend, watch threshold events. */
  readonly budgets: TenantBudgets;
  /** Every routed call's record, successful or not. */
  readonly records$: Observable<RoutingRecord>;
  /** Calls deferred to the work queue (`completeOrDefer`): their state, handles and how their tries get options. */
  readonly deferred: DeferredCalls;
  /** The same budgets as `budgets`, with what a call needs of them: assessment, reservations. */
  private readonly budgetService: BudgetService;
  private readonly planner: RoutePlanner;
  private readonly executor: RouteExecutor;
  private readonly recorder: RoutingRecorder;
  private readonly circuits: CircuitStateStore;
  private readonly scheduler: SchedulerLike;
  private readonly onClose: (() => void) | undefined;

  constructor(@Inject(LLM_ROUTER_PARTS) parts: LlmRouterParts) {
    this.policy = parts.policy;
    this.planner = parts.planner;
    this.executor = parts.executor;
    this.budgets = this.budgetService = parts.budgets;
    this.recorder = parts.recorder;
    this.records$ = parts.recorder.records$;
    this.circuits = parts.circuits;
    this.scheduler = parts.scheduler ?? timeoutScheduler;
    this.onClose = parts.onClose;
    this.deferred = new DeferredCalls({
      route: (request, options) => this.completion$(request, options),
      classOf: (name) => this.planner.resolveClass(name),
      currentContext: () => RoutingContextStore.current(),
      queue: parts.jobQueue ?? new InMemoryJobQueue(),
      store: parts.deferredCallStore ?? new InMemoryDeferredCallStore(),
      random: Math.random,
    });
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

  /**
   * `complete`, or, when the call's class says `onExhausted: defer` and its
   * route is exhausted by outage or by the restricted budget tier, the call
   * deferred to the work queue: a handle whose result arrives later.
   */
  completeOrDefer(request: ChatCompletionRequest, options?: RouteOptions, defer?: DeferOptions): Promise<CompletedOrDeferred> {
    return this.deferred.completeOrDefer(request, options, defer);
  }

  /** Promise form of `completion$`. */
  complete(request: ChatCompletionRequest, options?: RouteOptions): Promise<RoutedCompletion> {
    return lastValueFrom(this.completion$(request, options));
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

  /** Called by Nest once the app is up: deferred calls are tried from then on. */
  onApplicationBootstrap(): void {
    this.deferred.start();
  }

  /** Called by Nest at shutdown: deferred tries in flight stop first (they run again later). */
  async onApplicationShutdown(): Promise<void> {
    await this.deferred.close();
    this.close();
  }

  close(): void {
    void this.deferred.close();
    this.recorder.complete();
    this.budgetService.close();
    this.planner.close();
    this.onClose?.();
  }

  private route(request: ChatCompletionRequest, options: RouteOptions | undefined, stream: boolean) {
    return defer(() => {
      const current = RoutingContextStore.current();
      // The context carries `callerBudget` along when given (in the options, or in a request context an app filled); only the budget reads it.
      const context: RouteOptions = options ? { ...current, ...options } : (current ?? {});
      const requestId = context.requestId ?? newRequestId();
      const refuse = (err: unknown) => throwError(() => this.refuse(err, context, requestId, stream));
      const proceed = (assessment: BudgetAssessment | undefined) => {
        let plan;
        try {
          plan = this.planner.plan(request, context.trafficClass, context.qualityFloor, assessment?.downgrade ?? false);
        } catch (err) {
          return refuse(err);
        }
        return this.executor.execute(plan, request, context, requestId, stream, assessment && this.budgetService.forCall(assessment, plan));
      };
      let assessed;
      try {
        assessed = this.budgetService.assess(context.tenant, this.planner.resolveClass(context.trafficClass), context.callerBudget);
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
          if (!decided) this.recordWithoutPlan(context, requestId, stream, 'aborted');
        }),
      );
    });
  }

  /** Planning or the budget refused the call: it still gets its record. */
  private refuse(err: unknown, context: RoutingContext, requestId: string, stream: boolean): unknown {
    if (!(err instanceof LlmRouterError)) return err;
    err.requestId = requestId;
    this.recordWithoutPlan(context, requestId, stream, 'failure', err);
    return err;
  }

  private recordWithoutPlan(context: RoutingContext, requestId: string, stream: boolean, outcome: 'failure' | 'aborted', error?: LlmRouterError): void {
    this.recorder.emit(unplannedRecord(this.policy, { requestId, context, stream, outcome, error }));
  }
}
