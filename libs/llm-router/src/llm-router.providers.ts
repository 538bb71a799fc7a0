import type { FactoryProvider, InjectionToken, Provider } from '@nestjs/common';
import { BUDGET_LEDGER_STORE, type BudgetLedgerStore } from './budget/budget-ledger.store.js';
import { postToPolicyWebhook } from './budget/budget-webhook.js';
import { BudgetService } from './budget/budget.service.js';
import { InMemoryBudgetLedgerStore } from './budget/in-memory-budget-ledger.store.js';
import { RoutingContextCheck } from './context/routing-context.check.js';
import { ROUTING_CONTEXT_OPTIONS } from './context/routing-context.options.js';
import { DecoratorValidator } from './decorators/decorator-validator.js';
import { CIRCUIT_STATE_STORE, type CircuitStateStore } from './execution/circuit/circuit-state.store.js';
import { InMemoryCircuitStateStore } from './execution/circuit/in-memory-circuit-state.store.js';
import { RouteExecutor } from './execution/route-executor.js';
import { timeoutScheduler } from './execution/timeout-scheduler.js';
import { LLM_ROUTER_OPTIONS } from './llm-router.constants.js';
import type { LlmRouterModuleOptions, LlmRouterPorts, PortProvider } from './llm-router-options.interface.js';
import { ModuleOwnedPorts } from './module-owned-ports.js';
import { compilePolicy } from './policy/compile-policy.js';
import type { CompiledPolicy } from './policy/compiled-policy.js';
import { compilePolicyFile } from './policy/load-policy-file.js';
import { PolicyValidationError } from './policy/policy-validation.error.js';
import { LLM_ROUTER_POLICY } from './policy/policy.token.js';
import { LLM_TRANSPORT, type Transport } from './providers/http/transport.interface.js';
import { UndiciTransport } from './providers/http/undici.transport.js';
import { buildProviderTargets } from './providers/provider-targets.js';
import { DEFERRED_CALL_STORE, type DeferredCallStore } from './deferral/deferred-call.store.js';
import { InMemoryDeferredCallStore } from './deferral/in-memory-deferred-call.store.js';
import { InMemoryJobQueue } from './queue/in-memory-job-queue.js';
import { JOB_QUEUE, type JobQueue } from './queue/job-queue.js';
import { LivePolicy } from './router/live-policy.js';
import { LlmRouter, type LlmRouterParts } from './router/llm-router.service.js';
import { LLM_ROUTER_PARTS } from './router/llm-router.tokens.js';
import { RoutingRecorder } from './telemetry/routing-record.recorder.js';
import { InMemorySessionStore } from './session/in-memory-session.store.js';
import { SessionRouting } from './session/session-routing.js';
import { DEFAULT_SESSION_TTL_MS, SESSION_STORE, type SessionStore } from './session/session-store.js';

function policyFrom(options: LlmRouterModuleOptions): CompiledPolicy {
  if (options.policy !== undefined) return compilePolicy(options.policy);
  if (options.policyFile !== undefined) return compilePolicyFile(options.policyFile, options.env);
  throw new PolicyValidationError([{ path: '(options)', message: 'give LlmRouterModule either `policy` or `policyFile`' }]);
}

type PortKey = keyof LlmRouterPorts;

/**
 * Two providers per port, as `ThrottlerStorageProvider` does: the app's own
 * (from `ports`, else an instance in the options) under a private token, and
 * the public token, which falls back to the in-process default.
 */
function portProviders<T extends object>(
  key: PortKey,
  token: InjectionToken,
  given: PortProvider<T> | undefined,
  makeDefault: () => T,
): Provider[] {
  const appToken = Symbol(`llm-router ${key} (given by the app)`);
  const app: Provider =
    given === undefined
      ? { provide: appToken, useFactory: (options: LlmRouterModuleOptions) => options[key], inject: [LLM_ROUTER_OPTIONS] }
      : ({ provide: appToken, ...given } as Provider);
  const resolved: FactoryProvider = {
    provide: token,
    useFactory: (fromApp: T | undefined, owned: ModuleOwnedPorts) => {
      if (fromApp !== undefined && fromApp !== null) return fromApp;
      const created = makeDefault() as T & { close?: () => unknown };
      return typeof created.close === 'function' ? owned.own(created as T & { close(): unknown }) : created;
    },
    inject: [appToken, ModuleOwnedPorts],
  };
  return [app, resolved];
}

/** Everything the module provides besides its options: policy, ports, the router and the parts it is made of. */
export function llmRouterProviders(ports: LlmRouterPorts): Provider[] {
  return [
    ModuleOwnedPorts,
    { provide: ROUTING_CONTEXT_OPTIONS, useExisting: LLM_ROUTER_OPTIONS },
    { provide: LLM_ROUTER_POLICY, useFactory: policyFrom, inject: [LLM_ROUTER_OPTIONS] },
    ...portProviders<CircuitStateStore>('circuitStore', CIRCUIT_STATE_STORE, ports.circuitStore, () => new InMemoryCircuitStateStore()),
    ...portProviders<BudgetLedgerStore>('budgetLedger', BUDGET_LEDGER_STORE, ports.budgetLedger, () => new InMemoryBudgetLedgerStore()),
    ...portProviders<Transport>('transport', LLM_TRANSPORT, ports.transport, () => new UndiciTransport()),
    ...portProviders<JobQueue>('jobQueue', JOB_QUEUE, ports.jobQueue, () => new InMemoryJobQueue()),
    ...portProviders<DeferredCallStore>('deferredCallStore', DEFERRED_CALL_STORE, ports.deferredCallStore, () => new InMemoryDeferredCallStore()),
    ...portProviders<SessionStore>('sessionStore', SESSION_STORE, ports.sessionStore, () => new InMemorySessionStore()),
    {
      provide: LivePolicy,
      useFactory: (policy: CompiledPolicy, options: LlmRouterModuleOptions, decorators: DecoratorValidator) => {
        const live = new LivePolicy(policy, options.env);
        // A reload is refused, as start-up is, when a decorator names a class or tier the candidate lacks.
        live.addCheck((candidate) => decorators.issuesFor(candidate));
        return live;
      },
      inject: [LLM_ROUTER_POLICY, LLM_ROUTER_OPTIONS, DecoratorValidator],
    },
    { provide: RoutingRecorder, useFactory: () => new RoutingRecorder() },
    {
      provide: BudgetService,
      useFactory: (policy: CompiledPolicy, ledger: BudgetLedgerStore, options: LlmRouterModuleOptions) =>
        new BudgetService(policy, ledger, options.clock, postToPolicyWebhook),
      inject: [LLM_ROUTER_POLICY, BUDGET_LEDGER_STORE, LLM_ROUTER_OPTIONS],
    },
    {
      provide: RouteExecutor,
      useFactory: (
        policy: CompiledPolicy,
        options: LlmRouterModuleOptions,
        transport: Transport,
        circuits: CircuitStateStore,
        recorder: RoutingRecorder,
      ) =>
        new RouteExecutor({
          policy,
          targets: buildProviderTargets(policy, options.env),
          transport,
          circuits,
          recorder,
          scheduler: options.scheduler ?? timeoutScheduler,
          random: options.random ?? Math.random,
        }),
      inject: [LLM_ROUTER_POLICY, LLM_ROUTER_OPTIONS, LLM_TRANSPORT, CIRCUIT_STATE_STORE, RoutingRecorder],
    },
    {
      provide: LLM_ROUTER_PARTS,
      useFactory: (
        live: LivePolicy,
        options: LlmRouterModuleOptions,
        executor: RouteExecutor,
        budgets: BudgetService,
        recorder: RoutingRecorder,
        circuits: CircuitStateStore,
        jobQueue: JobQueue,
        deferredCallStore: DeferredCallStore,
        sessionStore: SessionStore,
      ): LlmRouterParts => ({
        live,
        executor,
        budgets,
        recorder,
        circuits,
        scheduler: options.scheduler ?? timeoutScheduler,
        jobQueue,
        deferredCallStore,
        sessions: new SessionRouting(sessionStore, circuits, options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS, options.clock ?? Date.now),
      }),
      inject: [LivePolicy, LLM_ROUTER_OPTIONS, RouteExecutor, BudgetService, RoutingRecorder, CIRCUIT_STATE_STORE, JOB_QUEUE, DEFERRED_CALL_STORE, SESSION_STORE],
    },
    LlmRouter,
    DecoratorValidator,
    RoutingContextCheck,
  ];
}
