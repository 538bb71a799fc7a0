import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { catchError, finalize, from, lastValueFrom, mergeMap, Observable, throwError, type SchedulerLike } from 'rxjs';
import type { BudgetMoved } from '../budget/budget-moved.js';
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
import type { SessionRouting } from '../session/session-routing.js';
import type { SessionState } from '../session/session-store.js';
import type { CompiledClass } from '../policy/compiled-policy.js';
import type { RoutedOutput } from '../execution/route-outcome.js';
import { deriveRequestNeeds } from '../planning/request-needs.js';
import type { RoutePlan } from '../planning/route-plan.js';
import type { RecordedNeeds } from '../planning/request-with-needs.js';
import { requestShapeError } from '../planning/request-shape.js';
import type { LivePolicy, PolicyGeneration, PolicyVersion } from './live-policy.js';
import { explainRoute, type RoutingExplanation } from './route-explanation.js';
import type { SessionToExplain } from './session-explanation.js';
import { LLM_ROUTER_PARTS } from './llm-router.tokens.js';
import type { DeferredCallStore } from '../deferral/deferred-call.store.js';
import { InMemoryDeferredCallStore } from '../deferral/in-memory-deferred-call.store.js';
import { InMemoryJobQueue } from '../queue/in-memory-job-queue.js';
import type { JobQueue } from '../queue/job-queue.js';
import { DeferredCalls, type CompletedOrDeferred, type DeferOptions } from './deferred-calls.js';
import { LlmSession } from './llm-session.js';
import { RoutedTextChunk } from './routed-text-chunk.js';
import { ProjectingObserver } from './projecting-observer.js';

/** Per-call options; each field overrides the request context set by the decorators. */
export interface RouteOptions extends RoutingContext {
  /** The caller's own budget inside the tenant's (an API key's): reserved and settled with it, refused once spent. */
  callerBudget?: CallerBudget;
  /**
   * Who opened the call's session inside the tenant (an API key id): a
   * session is the tenant's, the caller's and its id's together, so two
   * callers sending the same `session` never share a pin or a transcript.
   */
  caller?: string;
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
  /** On a chunk passed on as the provider's text (`json`), a getter that parses it on first read: read or destructure it, a spread does not copy it. */
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
  /** Session pins and transcripts; without it, session ids are only recorded. */
  readonly sessions?: SessionRouting;
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
  /** Calls deferred to the work queue (`completeOrDefer`): their state, handles and how their tries get options. */
  readonly deferred: DeferredCalls;
  /** The same budgets as `budgets`, with what a call needs of them: assessment, reservations. */
  private readonly budgetService: BudgetService;
  private readonly executor: RouteExecutor;
  private readonly recorder: RoutingRecorder;
  private readonly circuits: CircuitStateStore;
  private readonly scheduler: SchedulerLike;
  private readonly onClose: (() => void) | undefined;
  private readonly sessions: SessionRouting | undefined;

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
    this.deferred = new DeferredCalls({
      route: (request, options) => this.completion$(request, options),
      classOf: (name) => this.live.current().planner.resolveClass(name),
      currentContext: () => RoutingContextStore.current(),
      queue: parts.jobQueue ?? new InMemoryJobQueue(),
      store: parts.deferredCallStore ?? new InMemoryDeferredCallStore(),
      random: Math.random,
    });
    this.sessions = parts.sessions;
  }

  /** One completion. Unsubscribing aborts the upstream call in flight. */
  completion$(request: ChatCompletionRequest, options?: RouteOptions): Observable<RoutedCompletion> {
    return this.route(request, options, false, toCompletion);
  }

  /**
   * A streamed completion. A failure before the first chunk may switch target;
   * after it, the stream errors with `stream_interrupted`: never a silent end,
   * never an answer spliced from two models.
   */
  stream$(request: ChatCompletionRequest, options?: RouteOptions): Observable<RoutedChunk> {
    return this.route(request, options, true, toChunk);
  }

  /**
   * A conversation the router keeps: send only each new turn; the router
   * holds the transcript in the session store, routes the turns with the
   * class's affinity and carries the whole conversation across a switch.
   * `options` (class, tenant, caller ...) apply to every turn.
   */
  session(id: string, options?: RouteOptions): LlmSession {
    if (!this.sessions) throw new Error('this router has no session store');
    const sessions = this.sessions;
    return new LlmSession(id, options, {
      route: (request, turnOptions, stream) => {
        return stream ? this.route(request, turnOptions, true, toChunk, true) : this.route(request, turnOptions, false, toCompletion, true);
      },
      state: (key) => sessions.read(key),
      end: (key) => sessions.end(key),
    });
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
      // Read, not the last known balance: an explanation is not confirmed by a reservation.
      assessment = await this.budgetService.assess(context.tenant, generation.planner.resolveClass(context.trafficClass), context.callerBudget, true);
    } catch (err) {
      // An unknown class is explained as the planner refuses it; a budget refusal, as the budget does.
      if (!(err instanceof LlmRouterError)) throw err;
      assessment = err.category === 'invalid_request' ? undefined : err;
    }
    const circuits = new Map((await this.circuits.snapshot(this.scheduler.now())).map((c) => [c.target, c.status] as const));
    const session = await this.sessionToExplain(generation, context);
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
      ...(session ? { session } : {}),
    });
  }

  /** The session a real turn of this call would follow, its state read (never written) and pinned by `SessionRouting`'s own rule. */
  private async sessionToExplain(generation: PolicyGeneration, context: RouteOptions): Promise<SessionToExplain | undefined> {
    let trafficClass: CompiledClass;
    try {
      trafficClass = generation.planner.resolveClass(context.trafficClass);
    } catch {
      return undefined; // the class's refusal is explained by explainRoute
    }
    const call = this.sessions?.open(context, trafficClass, false);
    if (!call) return undefined;
    const state = await call.state;
    const sessions = this.sessions!;
    return { id: call.key.id, state, pin: (plan) => sessions.pin(plan, call, state).plan, contextFit: trafficClass.session.onContextOverflow };
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
    this.live.close();
    this.onClose?.();
  }

  /**
   * The routed call, each output as the caller takes it (`project`): one
   * Observable and one observer (ProjectingObserver, which rxjs wraps in its
   * own subscriber) where `defer(...).pipe(map(project))` made three layers of
   * operators on every call.
   * @param keepsTranscript a turn of `router.session()`: `request` holds only the new messages.
   */
  private route<T>(
    request: ChatCompletionRequest,
    options: RouteOptions | undefined,
    stream: boolean,
    project: (routed: RoutedOutput) => T,
    keepsTranscript = false,
  ): Observable<T> {
    return new Observable<T>((subscriber) => this.routed(request, options, stream, keepsTranscript).subscribe(new ProjectingObserver(subscriber, project)));
  }

  /** The call's routed outputs, planned when subscribed (see route). */
  private routed(request: ChatCompletionRequest, options: RouteOptions | undefined, stream: boolean, keepsTranscript: boolean): Observable<RoutedOutput> {
    // The policy is taken once, here: the whole call (plan, attempts, record) runs on this generation.
    const generation = this.live.current();
    const current = RoutingContextStore.current();
    // The context carries `callerBudget` along when given (in the options, or in a request context an app filled); only the budget reads it.
    const context: RouteOptions = options ? { ...current, ...options } : (current ?? {});
    const requestId = context.requestId ?? newRequestId();
    // A malformed request is refused before anything reads it (needs included: they are read from it).
    const malformed = requestShapeError(request);
    if (malformed !== undefined) return throwError(() => this.refuse(malformed, generation, context, requestId, stream, undefined));
    const refuse = (err: unknown) => throwError(() => this.refuse(err, generation, context, requestId, stream, request));
    let trafficClass: CompiledClass;
    let session;
    let assessed;
    try {
      trafficClass = generation.planner.resolveClass(context.trafficClass);
      session = this.sessions?.open(context, trafficClass, keepsTranscript);
      assessed = this.budgetService.assess(context.tenant, trafficClass, context.callerBudget);
    } catch (err) {
      return refuse(err);
    }
    const proceed = (assessment: BudgetAssessment | undefined, state?: SessionState): Observable<RoutedOutput> => {
      // A kept transcript: the conversation so far, then the new turn.
      const full = keepsTranscript && state?.transcript ? { ...request, messages: [...state.transcript, ...request.messages] } : request;
      const pin: { current?: { plan: RoutePlan; originalUnhealthyAt?: number } } = {};
      const planAndRun = (assessment: BudgetAssessment | undefined): Observable<RoutedOutput> => {
        let plan;
        try {
          plan = generation.planner.plan(full, context.trafficClass, context.qualityFloor, assessment?.downgrade ?? false, session && trafficClass.session.onContextOverflow);
        } catch (err) {
          return refuse(err);
        }
        if (session) plan = (pin.current = this.sessions!.pin(plan, session, state)).plan;
        // Decided on the tenant's last known balance: when the first reservation finds it moved, the call is planned again on the ledger's figures.
        const replan = assessment?.expect === undefined ? undefined : (moved: BudgetMoved) => (moved.next instanceof LlmRouterError ? refuse(moved.next) : planAndRun(moved.next));
        return this.executor.execute(plan, full, context, requestId, stream, assessment && this.budgetService.forCall(assessment, plan), generation, replan);
      };
      const routed$ = planAndRun(assessment);
      if (!session) return routed$;
      // The pin read when the turn ends: a call planned again was pinned again.
      return this.sessions!.follow(routed$, session, state, pin, keepsTranscript ? request.messages : []);
    };
    const loaded = session?.state;
    if (loaded instanceof Promise) {
      // The budget's answer and the session's, read at once.
      const both = Promise.all([assessed, loaded]);
      let decided = false;
      return from(both).pipe(
        catchError((err: unknown) => {
          decided = true;
          return refuse(err);
        }),
        mergeMap(([assessment, state]) => {
          decided = true;
          return proceed(assessment, state);
        }),
        finalize(() => {
          if (!decided) this.recordWithoutPlan(generation, context, requestId, stream, 'aborted');
        }),
      );
    }
    if (!(assessed instanceof Promise)) return proceed(assessed, loaded);
    // A caller gone while the budget store answers still leaves its record.
    let decided = false;
    return from(assessed).pipe(
      catchError((err: unknown) => {
        decided = true;
        return refuse(err);
      }),
      mergeMap((assessment) => {
        decided = true;
        return proceed(assessment, loaded);
      }),
      finalize(() => {
        if (!decided) this.recordWithoutPlan(generation, context, requestId, stream, 'aborted');
      }),
    );
  }

  /** Planning or the budget refused the call: it still gets its record. */
  /** @param request absent when it is the request's shape that was refused: nothing could be read of it. */
  private refuse(err: unknown, generation: PolicyGeneration, context: RoutingContext, requestId: string, stream: boolean, request: ChatCompletionRequest | undefined): unknown {
    if (!(err instanceof LlmRouterError)) return err;
    err.requestId = requestId;
    err.policyVersion ??= generation.version.id;
    // What routing read of the request: a refused call can be planned again (simulate, shadow) like a served one.
    this.recordWithoutPlan(generation, context, requestId, stream, 'failure', err, request && deriveRequestNeeds(request));
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

function toCompletion(routed: RoutedOutput): RoutedCompletion {
  if (routed.output.type !== 'completion') throw new Error('unexpected stream output');
  const { completion, json } = routed.output;
  const result: { -readonly [K in keyof RoutedCompletion]: RoutedCompletion[K] } = { completion, outcome: routed.outcome };
  if (json !== undefined) result.json = json;
  if (routed.costUsd !== undefined) result.costUsd = routed.costUsd;
  return result;
}

function toChunk({ output, outcome }: RoutedOutput): RoutedChunk {
  // A streamed attempt only ever yields chunks (mirrors the check in toCompletion).
  if (output.type === 'text') return new RoutedTextChunk(outcome, output);
  if (output.type !== 'chunk') throw new Error('unexpected completion output on a stream');
  const routed: { chunk: ChatCompletionChunk; outcome: RouteOutcome; usage?: Usage; json?: string } = { chunk: output.chunk, outcome };
  if (output.usage) routed.usage = output.usage;
  if (output.json !== undefined) routed.json = output.json;
  return routed;
}
