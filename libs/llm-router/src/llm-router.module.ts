import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { RoutingContextInterceptor } from './context/routing-context.interceptor.js';
import { DecoratorValidator } from './decorators/decorator-validator.js';
import { LlmRouterHealthIndicator } from './health/llm-router.health.js';
import { LLM_ROUTER_OPTIONS, LLM_ROUTER_POLICY } from './llm-router.constants.js';
import type { LlmRouterModuleAsyncOptions, LlmRouterModuleOptions, LlmRouterOptionsFactory } from './llm-router-options.interface.js';
import { LlmRouter } from './llm-router.service.js';
import { compilePolicy } from './policy/compile-policy.js';
import type { CompiledPolicy } from './policy/compiled-policy.js';
import { loadPolicyFile } from './policy/load-policy-file.js';
import { PolicyValidationError } from './policy/policy-validation.error.js';

function policyFrom(options: LlmRouterModuleOptions): CompiledPolicy {
  if (options.policy !== undefined) return compilePolicy(options.policy);
  if (options.policyFile !== undefined) return compilePolicy(loadPolicyFile(options.policyFile), `policy file ${options.policyFile}`);
  throw new PolicyValidationError([{ path: '(options)', message: 'give LlmRouterModule either `policy` or `policyFile`' }]);
}

/**
 * Routes LLM calls by explicit fallback policy. Global: `LlmRouter` can be
 * injected anywhere once the module is imported at the root.
 */
@Module({})
export class LlmRouterModule {
  static forRoot(options: LlmRouterModuleOptions): DynamicModule {
    return this.assemble([{ provide: LLM_ROUTER_OPTIONS, useValue: options }], []);
  }

  static forRootAsync(options: LlmRouterModuleAsyncOptions): DynamicModule {
    return this.assemble(this.asyncOptionProviders(options), options.imports ?? []);
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

  private static assemble(optionProviders: Provider[], imports: NonNullable<DynamicModule['imports']>): DynamicModule {
    return {
      module: LlmRouterModule,
      global: true,
      imports: [DiscoveryModule, TerminusModule, ...imports],
      providers: [
        ...optionProviders,
        { provide: LLM_ROUTER_POLICY, useFactory: policyFrom, inject: [LLM_ROUTER_OPTIONS] },
        {
          provide: LlmRouter,
          useFactory: (options: LlmRouterModuleOptions, policy: CompiledPolicy) =>
            new LlmRouter({
              policy,
              circuits: options.circuitStore,
              budgetLedger: options.budgetLedger,
              transport: options.transport,
              scheduler: options.scheduler,
              random: options.random,
              env: options.env,
            }),
          inject: [LLM_ROUTER_OPTIONS, LLM_ROUTER_POLICY],
        },
        { provide: APP_INTERCEPTOR, useClass: RoutingContextInterceptor },
        DecoratorValidator,
        LlmRouterHealthIndicator,
      ],
      exports: [LLM_ROUTER_OPTIONS, LLM_ROUTER_POLICY, LlmRouter, LlmRouterHealthIndicator],
    };
  }
}
