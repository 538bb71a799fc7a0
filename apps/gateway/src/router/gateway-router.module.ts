import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LLM_ROUTER_OPTIONS, LlmRouterModule, type LlmRouterModuleOptions } from '@llm-router/nestjs';
import { keyedContext } from '../auth/keyed-context.js';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import { GatewayRedis } from '../redis/gateway-redis.js';
import { GatewayJobQueue } from '../jobs/gateway-job-queue.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { StoreModule } from '../store/store.module.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';

/** A store given in the router options wins; else, with `LLM_REDIS_URL`, the shared one (undefined: the in-process default). */
function sharedOr<K extends 'budgetLedger' | 'circuitStore'>(key: K, shared: (redis: GatewayRedis) => LlmRouterModuleOptions[K]) {
  return {
    useFactory: (options: LlmRouterModuleOptions, redis: GatewayRedis) => options[key] ?? shared(redis),
    inject: [LLM_ROUTER_OPTIONS, GatewayRedis],
  };
}

/**
 * The one LlmRouterModule: its options (the policy file from the config unless
 * given), and with `LLM_REDIS_URL` the Redis budget ledger and circuit store
 * as its ports, so that every instance reserves from the same tenant budgets
 * and shares circuits.
 */
@Module({})
export class GatewayRouterModule {
  static register(config: GatewayConfig, router?: LlmRouterModuleOptions): DynamicModule {
    const contextFromRequest = config.auth === 'api-keys' ? keyedContext : undefined;
    return {
      module: GatewayRouterModule,
      imports: [
        LlmRouterModule.forRootAsync({
          imports: [StoreModule, JobsModule],
          inject: [ConfigService],
          useFactory: (c: ConfigService): LlmRouterModuleOptions => {
            const given = router ?? { policyFile: c.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).policyFile };
            // The gateway's own routes pass router options explicitly; only the decorated sample endpoints need a context.
            return { requestContext: 'decorated-routes', ...given, contextFromRequest: given.contextFromRequest ?? contextFromRequest };
          },
          ports: {
            budgetLedger: sharedOr('budgetLedger', (redis) => redis.budgetLedger),
            circuitStore: sharedOr('circuitStore', (redis) => redis.circuits),
            // Deferred calls run on the gateway's queue and are kept in its store, where every instance reads them.
            jobQueue: { useFactory: (options: LlmRouterModuleOptions, jobs: GatewayJobQueue) => options.jobQueue ?? jobs.queue, inject: [LLM_ROUTER_OPTIONS, GatewayJobQueue] },
            deferredCallStore: {
              useFactory: (options: LlmRouterModuleOptions, store: GatewayStore) => options.deferredCallStore ?? store.deferredCalls,
              inject: [LLM_ROUTER_OPTIONS, GATEWAY_STORE],
            },
          },
        }),
      ],
    };
  }
}
