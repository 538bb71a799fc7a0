// The public surface of the llm-router library. Import from the package root only.

// Module and configuration
export { LlmRouterModule } from './llm-router.module.js';
export { LLM_ROUTER_OPTIONS, LLM_ROUTER_POLICY } from './llm-router.constants.js';
export type {
  IncomingRequestLike,
  LlmRouterModuleAsyncOptions,
  LlmRouterModuleOptions,
  LlmRouterOptionsFactory,
} from './llm-router-options.interface.js';

// Decorators and request context
export { TrafficClass } from './decorators/traffic-class.decorator.js';
export { QualityFloor } from './decorators/quality-floor.decorator.js';
export type { RoutingContext } from './context/routing-context.js';
export { RoutingContextStore } from './context/routing-context.store.js';
export { newRequestId } from './context/request-id.js';
export { contextFromHeaders, RoutingContextInterceptor } from './context/routing-context.interceptor.js';

// The router
export { LlmRouter } from './llm-router.service.js';
export type { LlmRouterDeps, RoutedChunk, RoutedCompletion, RouteOptions } from './llm-router.service.js';
export type { BudgetSnapshot, RouteOutcome } from './execution/route-outcome.js';
export { BUDGET_TIERS, type BudgetEvent, type BudgetPeriod, type BudgetState, type BudgetThresholds, type BudgetTier, type TenantBudget } from './budget/budget.types.js';

// Policy
export { compilePolicy } from './policy/compile-policy.js';
export { describePolicy } from './policy/describe-policy.js';
export { loadPolicyFile } from './policy/load-policy-file.js';
export { CLASS_DEFAULTS, type ClassDefaults } from './policy/class-defaults.js';
export { PolicyValidationError, type PolicyIssue } from './policy/policy-validation.error.js';
export { CAPABILITIES, CRITICALITIES, DEFAULT_TIERS, policySchema } from './policy/policy.schema.js';
export type {
  BackoffConfig,
  Capability,
  CircuitConfig,
  ClassConfig,
  Criticality,
  ModelConfig,
  PolicyDocument,
  ProviderConfig,
  QualityFloorSpec,
  BudgetsConfig,
  TenantBudgetConfig,
} from './policy/policy.schema.js';
export type { CompiledClass, CompiledModel, CompiledPolicy, CompiledProvider } from './policy/compiled-policy.js';

// Planning
export { RoutePlanner, mergeFloors } from './planning/route-planner.js';
export type { RoutePlan } from './planning/route-plan.js';
export { deriveRequestNeeds, type RequestNeeds } from './planning/request-needs.js';

// Failures and errors
export { CATEGORY_RULES, type CategoryRule, type FailureCategory } from './execution/failure-category.js';
export { LlmRouterError, type Exclusion, type RouterErrorOrigin } from './errors/llm-router.error.js';
export { UpstreamFailure, type UpstreamFailureInit } from './errors/upstream-failure.js';

// Circuit breaker storage
export {
  CIRCUIT_STATE_STORE,
  type CircuitFailureOptions,
  type CircuitGate,
  type CircuitSnapshot,
  type CircuitStateStore,
  type CircuitStatus,
  type MaybePromise,
} from './execution/circuit/circuit-state.store.js';
export { InMemoryCircuitStateStore } from './execution/circuit/in-memory-circuit-state.store.js';
export { RedisCircuitStateStore, type RedisCircuitStateOptions } from './execution/circuit/redis-circuit-state.store.js';
export { createRedisStoreClient } from './redis/redis-store-client.js';

// Providers and transport
export type { AdapterTarget, ProviderAdapter, ProviderKind, StreamDecoder, UpstreamRequest } from './providers/provider-adapter.interface.js';
export { LLM_TRANSPORT, type Transport, type TransportEvent, type TransportRequest } from './providers/http/transport.interface.js';
export { UndiciTransport } from './providers/http/undici.transport.js';
export { SseDecoder, type SseEvent } from './providers/sse/sse-decoder.js';

// Budgets
export { BudgetService, type BudgetAssessment, type BudgetReservation, type BudgetSetting, type ResolvedTenantBudget, type ReserveOutcome } from './budget/budget.service.js';
export {
  BUDGET_LEDGER_STORE,
  type BudgetLedgerStore,
  type LedgerBalance,
  type LedgerKeys,
  type LedgerLease,
  type LedgerLimits,
  type ReserveResult,
} from './budget/budget-ledger.store.js';
export { InMemoryBudgetLedgerStore } from './budget/in-memory-budget-ledger.store.js';
export { RedisBudgetLedgerStore, type RedisBudgetLedgerOptions } from './budget/redis-budget-ledger.store.js';
export { periodWindow, type PeriodWindow } from './budget/budget-period.js';
export { DEFAULT_THRESHOLDS, tierFor } from './budget/budget-tier.js';
export { worstCaseCostMicros } from './budget/worst-case-cost.js';
export { MICROS_PER_USD, microsToUsd, usdToMicros } from './budget/usd.js';

// Telemetry and health
export type { AttemptRecord, RoutingRecord } from './telemetry/routing-record.js';
export { isoTime } from './telemetry/iso-time.js';
export { LlmRouterHealthIndicator } from './health/llm-router.health.js';

// Testing: an in-process Transport answering from scripts, on any RxJS scheduler
export { ScriptedTransport, type ScriptedResponse } from './testing/scripted-transport.js';

// OpenAI wire types
export type * from './chat/chat-completion.types.js';
