// @llm-router/nestjs: the public surface. Redis stores live in
// '@llm-router/nestjs/redis', the terminus indicator in '@llm-router/nestjs/health',
// the scripted transport in '@llm-router/nestjs/testing', so that their optional
// peers (ioredis, @nestjs/terminus) load only when an app imports them.

// Module, options and injection helpers
export { LlmRouterModule } from './llm-router.module.js';
export { LLM_ROUTER_OPTIONS } from './llm-router.constants.js';
export { LLM_ROUTER_POLICY } from './policy/policy.token.js';
export type {
  LlmRouterModuleAsyncOptions,
  LlmRouterModuleOptions,
  LlmRouterOptionsFactory,
  LlmRouterPorts,
  PortProvider,
} from './llm-router-options.interface.js';
export { InjectBudgetLedgerStore, InjectCircuitStateStore, InjectJobQueue, InjectLlmRouterPolicy, InjectLlmTransport, InjectSessionStore } from './inject.decorators.js';

// Decorators and request context
export { TrafficClass } from './decorators/traffic-class.decorator.js';
export { QualityFloor } from './decorators/quality-floor.decorator.js';
export type { RoutingContext } from './context/routing-context.js';
export { ROUTING_CONTEXT_OPTIONS, type IncomingRequestLike, type RoutingContextOptions } from './context/routing-context.options.js';
export { contextFromHeaders, RoutingContextInterceptor, traceCarrierOf } from './context/routing-context.interceptor.js';
export { isValidRequestId, newRequestId } from './context/request-id.js';

// The router
export { LlmRouter, type RoutedChunk, type RoutedCompletion, type RouteOptions } from './router/llm-router.service.js';
export { createLlmRouter, type LlmRouterDeps } from './router/create-llm-router.js';
export { LivePolicy, type PolicyCheck, type PolicyGeneration, type PolicyVersion } from './router/live-policy.js';
export type { ExclusionKind, ExplainedRefusal, ExplainedTarget, RoutingExplanation } from './router/route-explanation.js';
export type { ExplainedSession } from './router/session-explanation.js';
export type { RouteOutcome } from './execution/route-outcome.js';
export { LlmSession, type SessionTurn } from './router/llm-session.js';

// Policy
export { compilePolicy } from './policy/compile-policy.js';
export { describePolicy } from './policy/describe-policy.js';
export { compilePolicyFile, compilePolicyText, loadPolicyFile, readPolicyFile } from './policy/load-policy-file.js';
export { policyChanges, type PolicyChanges, type SectionChanges } from './policy/policy-changes.js';
export { CLASS_DEFAULTS, type ClassDefaults } from './policy/class-defaults.js';
export { PolicyValidationError, type PolicyIssue } from './policy/policy-validation.error.js';
export { CAPABILITIES, CRITICALITIES, DEFAULT_TIERS, PROVIDER_KINDS, policySchema } from './policy/policy.schema.js';
export type {
  BackoffConfig,
  BatchesConfig,
  BudgetsConfig,
  Capability,
  CircuitConfig,
  ClassConfig,
  Criticality,
  ModelConfig,
  PolicyDocument,
  ProviderConfig,
  ProviderKind,
  QualityFloorSpec,
  SessionSettingsConfig,
  TenantBudgetConfig,
} from './policy/policy.schema.js';
export type { CompiledClass, CompiledModel, CompiledPolicy, CompiledProvider, CompiledSessionSettings } from './policy/compiled-policy.js';

// Failures and errors
export { CATEGORY_RULES, type CategoryRule, type FailureCategory } from './errors/failure-category.js';
export { LlmRouterError, type Exclusion, type RouterErrorOrigin } from './errors/llm-router.error.js';
export { UpstreamFailure, type UpstreamFailureInit } from './errors/upstream-failure.js';

// Ports: circuit state, tenant spend, upstream HTTP (tokens, interfaces, in-process defaults)
export {
  CIRCUIT_STATE_STORE,
  type CircuitFailureOptions,
  type CircuitGate,
  type CircuitSnapshot,
  type CircuitStateStore,
  type CircuitStatus,
} from './execution/circuit/circuit-state.store.js';
export { InMemoryCircuitStateStore } from './execution/circuit/in-memory-circuit-state.store.js';
export {
  BUDGET_LEDGER_STORE,
  type BudgetLedgerStore,
  type CallerLedgerKeys,
  type CallerLedgerLimits,
  type CallerSpend,
  type LedgerBalance,
  type LedgerExpectation,
  type LedgerKeys,
  type LedgerLease,
  type LedgerLimits,
  type ReserveResult,
} from './budget/budget-ledger.store.js';
export { InMemoryBudgetLedgerStore } from './budget/in-memory-budget-ledger.store.js';
export { LLM_TRANSPORT, type Transport, type TransportEvent, type TransportRequest } from './providers/http/transport.interface.js';
export { UndiciTransport } from './providers/http/undici.transport.js';
export type { UpstreamRequest } from './providers/provider-adapter.interface.js';
export type { MaybePromise } from './shared/maybe-promise.js';
export {
  JOB_QUEUE,
  type JobHandler,
  type JobOutcome,
  type JobQueue,
  type JobState,
  type JobWorker,
  type JobWorkerOptions,
  type NewJob,
  type QueuedJob,
} from './queue/job-queue.js';
export { InMemoryJobQueue, type InMemoryJobQueueOptions } from './queue/in-memory-job-queue.js';
export { outcomeOfThrow } from './queue/job-retry.js';
export { checkWorkerOptions } from './queue/worker-options.js';
export { untilAborted } from './queue/until-aborted.js';

// Deferred calls (`router.completeOrDefer`, `router.deferred`)
export type { DeferredCall, DeferredCallback, DeferredFailure, DeferredStatus, DeferReason } from './deferral/deferred-call.js';
export { DEFERRED_CALL_STORE, type DeferredCallStore } from './deferral/deferred-call.store.js';
export { InMemoryDeferredCallStore } from './deferral/in-memory-deferred-call.store.js';
export { DeferredCallError } from './deferral/deferred-call.error.js';
export { deferredCallBody, deferredCallState } from './deferral/deferred-call-body.js';
export { CALLBACK_SIGNATURE_HEADER, signCallback } from './deferral/callback-signature.js';
export { CallbackTargetRefused, CallbackTargets } from './deferral/callback-targets.js';
export {
  DEFERRED_CALLBACKS_QUEUE,
  DEFERRED_CALLS_QUEUE,
  DeferredCalls,
  type CompletedOrDeferred,
  type DeferOptions,
  type DeferredHandle,
  type PrepareTry,
} from './router/deferred-calls.js';

// Sessions (`router.session`)
export {
  DEFAULT_SESSION_TTL_MS,
  SESSION_STORE,
  sessionStoreKey,
  type SessionKey,
  type SessionState,
  type SessionStore,
  type SessionSwitch,
} from './session/session-store.js';
export { InMemorySessionStore, type InMemorySessionStoreOptions } from './session/in-memory-session.store.js';
export { checkSessionId, MAX_SESSION_ID_LENGTH } from './session/session-id.js';

// Budgets (`router.budgets`); how a call reserves and settles is internal
export type { BudgetSetting, RecordedSpend, RecordedSpendSource, ResolvedTenantBudget, TenantBudgets } from './budget/tenant-budgets.js';
export {
  BUDGET_TIERS,
  type BudgetEvent,
  type BudgetPeriod,
  type BudgetSnapshot,
  type BudgetState,
  type BudgetThresholds,
  type BudgetTier,
  type CallerBudget,
  type TenantBudget,
} from './budget/budget.types.js';
// The UTC windows budgets are counted in: an app summing spend from its own records (the gateway's restore) needs the same ones.
export { periodWindow, type PeriodWindow } from './budget/budget-period.js';
// What one attempt of a request reserves on a model: for sizing a budget in whole worst cases.
export { requestWorstCaseMicros } from './budget/worst-case-cost.js';

// Records
export type { AttemptRecord, RoutingRecord, SessionMove } from './telemetry/routing-record.js';
// A recorded request planned again (simulate a policy, a shadow policy): a stand-in with the same needs.
export { requestWithNeeds, type RecordedNeeds } from './planning/request-with-needs.js';
// The records' timestamp formatter (cached, allocation-light): the gateway's request log stamps its lines with it.
export { isoTime } from './telemetry/iso-time.js';
// The OpenAI objects' times (whole Unix seconds): the gateway's batches, files and listings show theirs with it.
export { unixSeconds } from './shared/unix-seconds.js';

// OpenAI wire types
export type * from './chat/chat-completion.types.js';
