import { Module, type DynamicModule, type FactoryProvider, type InjectionToken, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { BUDGET_LEDGER_STORE, type BudgetLedgerStore } from './budget/budget-ledger.store.js';
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
import type { LlmRouterModuleAsyncOptions, LlmRouterModuleOptions, LlmRouterOptionsFactory, LlmRouterPorts, PortProvider } from './llm-router-options.interface.js';
import { RoutePlanner } from './planning/route-planner.js';
import { compilePolicy } from './policy/compile-policy.js';
import type { CompiledPolicy } from './policy/compiled-policy.js';
import { loadPolicyFile } from './policy/load-policy-file.js';
import { PolicyValidationError } from './policy/policy-validation.error.js';
import { LLM_ROUTER_POLICY } from './policy/policy.token.js';
import { LLM_TRANSPORT, type Transport } from './providers/http/transport.interface.js';
import { UndiciTransport } from './providers/http/undici.transport.js';
import { buildProviderTargets } from './providers/provider-targets.js';
import { budgetEventSink } from './router/create-llm-router.js';
import { LlmRouter, type LlmRouterParts } from './router/llm-router.service.js';
import { LLM_ROUTER_PARTS } from './router/llm-router.tokens.js';
import { RoutingRecorder } from './telemetry/routing-record.recorder.js';

function policyFrom(options: LlmRouterModuleOptions): CompiledPolicy {
  if (options.policy !== undefined) return compilePolicy(options.policy);
  if (options.policyFile !== undefined) return compilePolicy(loadPolicyFile(options.policyFile), `policy file ${options.policyFile}`);
  throw new PolicyValidationError([{ path: '(options)', message: 'give LlmRouterModule either `policy` or `policyFile`' }]);
}

/** What the module created itself and so closes at shutdown; never a port the app gave. */
class ModuleOwnedPorts implements OnApplicationShutdown {
  private readonly owned: Array<{ close(): unknown }> = [];

  own<T extends { close(): unknown }>(port: T): T {
    this.owned.push(port);
    return port;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.owned.splice(0).map(async (port) => port.close()));
  }
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

function coreProviders(ports: LlmRouterPorts): Provider[] {
  return [
    ModuleOwnedPorts,
    { provide: ROUTING_CONTEXT_OPTIONS, useExisting: LLM_ROUTER_OPTIONS },
    { provide: LLM_ROUTER_POLICY, useFactory: policyFrom, inject: [LLM_ROUTER_OPTIONS] },
    ...portProviders<CircuitStateStore>('circuitStore', CIRCUIT_STATE_STORE, ports.circuitStore, () => new InMemoryCircuitStateStore()),
    ...portProviders<BudgetLedgerStore>('budgetLedger', BUDGET_LEDGER_STORE, ports.budgetLedger, () => new InMemoryBudgetLedgerStore()),
    ...portProviders<Transport>('transport', LLM_TRANSPORT, ports.transport, () => new UndiciTransport()),
    { provide: RoutePlanner, useFactory: (policy: CompiledPolicy) => new RoutePlanner(policy), inject: [LLM_ROUTER_POLICY] },
    { provide: RoutingRecorder, useFactory: () => new RoutingRecorder() },
    {
      provide: BudgetService,
      useFactory: (policy: CompiledPolicy, ledger: BudgetLedgerStore, options: LlmRouterModuleOptions) =>
        new BudgetService(policy, ledger, options.clock, budgetEventSink(policy)),
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
        budgets: BudgetService,
      ) =>
        new RouteExecutor({
          policy,
          targets: buildProviderTargets(policy, options.env),
          transport,
          circuits,
          recorder,
          budgets,
          scheduler: options.scheduler ?? timeoutScheduler,
          random: options.random ?? Math.random,
        }),
      inject: [LLM_ROUTER_POLICY, LLM_ROUTER_OPTIONS, LLM_TRANSPORT, CIRCUIT_STATE_STORE, RoutingRecorder, BudgetService],
    },
    {
      provide: LLM_ROUTER_PARTS,
      useFactory: (
        policy: CompiledPolicy,
        options: LlmRouterModuleOptions,
        planner: RoutePlanner,
        executor: RouteExecutor,
        budgets: BudgetService,
        recorder: RoutingRecorder,
        circuits: CircuitStateStore,
      ): LlmRouterParts => ({ policy, planner, executor, budgets, recorder, circuits, scheduler: options.scheduler ?? timeoutScheduler }),
      inject: [LLM_ROUTER_POLICY, LLM_ROUTER_OPTIONS, RoutePlanner, RouteExecutor, BudgetService, RoutingRecorder, CIRCUIT_STATE_STORE],
    },
    LlmRouter,
    DecoratorValidator,
    RoutingContextCheck,
  ];
}

/**
 * Routes LLM calls by explicit fallback policy. Global: `LlmRouter` and the
 * port tokens can be injected anywhere once the module is imported at the root.
 * It registers no interceptor and imports no TerminusModule: add
 * `RoutingContextInterceptor` (for `@TrafficClass`/`@QualityFloor`) and
 * `LlmRouterHealthModule` (from `@llm-router/nestjs/health`) where you want them.
 */
@Module({})
export class LlmRouterModule {
  static forRoot(options: LlmRouterModuleOptions): DynamicModule {
    return this.assemble([{ provide: LLM_ROUTER_OPTIONS, useValue: options }], [], options.ports ?? {});
  }

  static forRootAsync(options: LlmRouterModuleAsyncOptions): DynamicModule {
    return this.assemble(this.asyncOptionProviders(options), options.imports ?? [], options.ports ?? {});
  }

  private static asyncOptionProviders(options: LlmRouterModuleAsyncOptions): Provider[] {
    if (options.useFactory) {
      return [{ provide: LLM_ROUTER_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }];
    }
    const factoryType = options.useExisting ?? options.useClass;
    if (!factoryType) throw new Error('LlmRouterModule.forRootAsync needs useFactory, useClass or useExisting');
    const providers: Provider[] = [
      {
        provide: LLM_ROUTER_OPTIONS,
        useFactory: (factory: LlmRouterOptionsFactory) => factory.createLlmRouterOptions(),
        inject: [factoryType],
      },
    ];
    if (options.useClass) providers.push({ provide: options.useClass, useClass: options.useClass });
    return providers;
  }

  private static assemble(optionProviders: Provider[], imports: NonNullable<DynamicModule['imports']>, ports: LlmRouterPorts): DynamicModule {
    return {
      module: LlmRouterModule,
      global: true,
      imports: [DiscoveryModule, ...imports],
      providers: [...optionProviders, ...coreProviders(ports)],
      exports: [LLM_ROUTER_OPTIONS, LLM_ROUTER_POLICY, ROUTING_CONTEXT_OPTIONS, CIRCUIT_STATE_STORE, BUDGET_LEDGER_STORE, LLM_TRANSPORT, LlmRouter],
    };
  }
}
