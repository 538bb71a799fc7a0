import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { BUDGET_LEDGER_STORE } from './budget/budget-ledger.store.js';
import { ROUTING_CONTEXT_OPTIONS } from './context/routing-context.options.js';
import { CIRCUIT_STATE_STORE } from './execution/circuit/circuit-state.store.js';
import { JOB_QUEUE } from './queue/job-queue.js';
import { DEFERRED_CALL_STORE } from './deferral/deferred-call.store.js';
import { LLM_ROUTER_OPTIONS } from './llm-router.constants.js';
import type { LlmRouterModuleAsyncOptions, LlmRouterModuleOptions, LlmRouterOptionsFactory, LlmRouterPorts } from './llm-router-options.interface.js';
import { llmRouterProviders } from './llm-router.providers.js';
import { LLM_ROUTER_POLICY } from './policy/policy.token.js';
import { LLM_TRANSPORT } from './providers/http/transport.interface.js';
import { LlmRouter } from './router/llm-router.service.js';

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
      providers: [...optionProviders, ...llmRouterProviders(ports)],
      exports: [LLM_ROUTER_OPTIONS, LLM_ROUTER_POLICY, ROUTING_CONTEXT_OPTIONS, CIRCUIT_STATE_STORE, BUDGET_LEDGER_STORE, LLM_TRANSPORT, JOB_QUEUE, DEFERRED_CALL_STORE, LlmRouter],
    };
  }
}
