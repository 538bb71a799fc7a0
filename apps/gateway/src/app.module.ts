import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import type { FastifyRequest } from 'fastify';
import { contextFromHeaders, LlmRouterModule, RoutingContextInterceptor, type IncomingRequestLike, type LlmRouterModuleOptions, type RoutingContext } from '@llm-router/nestjs';
import { AdminController } from './admin/admin.controller.js';
import { ApiKeyService } from './auth/api-key.service.js';
import { AuthHook } from './auth/auth.hook.js';
import { V1Authenticator } from './auth/v1-authenticator.js';
import { BatchSummariesController } from './batch/batch-summaries.controller.js';
import { GatewayBudgetsService } from './budgets/gateway-budgets.service.js';
import { KeySpend } from './budgets/key-spend.js';
import { ChatCompletionsHandler } from './chat-completions/chat-completions.handler.js';
import { RouteAccessService } from './chat-completions/route-access.service.js';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from './config/gateway.config.js';
import { OpenAiExceptionFilter } from './errors/openai-exception.filter.js';
import { HealthController } from './health/health.controller.js';
import { RedisHealthIndicator } from './health/redis.health.js';
import { StoreHealthIndicator } from './health/store.health.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { ModelsController } from './models/models.controller.js';
import { RecordsService } from './persistence/records.service.js';
import { PolicyController } from './policy/policy.controller.js';
import { GatewayRedis } from './redis/gateway-redis.js';
import { GatewayRedisModule } from './redis/gateway-redis.module.js';
import { createStore } from './store/create-store.js';
import { GATEWAY_STORE } from './store/store.tokens.js';
import { SupportChatController } from './support-chat/support-chat.controller.js';
import { UsageController } from './usage/usage.controller.js';
import { UsageService } from './usage/usage.service.js';
import { LlmRouterHealthIndicator } from '@llm-router/nestjs/health';
import './auth/principal.decorator.js';

export interface AppModuleOptions {
  config: GatewayConfig;
  /** The ConfigModule that carries `config` under `gateway` (env-validated in main.ts, given in tests). */
  configModule: DynamicModule | Promise<DynamicModule>;
  /** The router options; absent = the policy file from the config. */
  router?: LlmRouterModuleOptions;
}

/**
 * With API keys, the tenant in the routing context is the key's, never an
 * `x-tenant-id` header: unauthenticated sample endpoints route tenant-less.
 */
function keyedContext(request: IncomingRequestLike): RoutingContext {
  const context = contextFromHeaders(request);
  delete context.tenant;
  const tenant = (request as FastifyRequest).llmPrincipal?.tenant;
  if (tenant !== undefined) context.tenant = tenant;
  return context;
}

/** The gateway application around one LlmRouterModule. */
@Module({})
export class AppModule {
  static register(options: AppModuleOptions): DynamicModule {
    const { config } = options;
    const contextFromRequest = config.auth === 'api-keys' ? keyedContext : undefined;
    // The gateway's own routes pass router options explicitly; only the decorated sample endpoints need a context.
    const requestContext = 'decorated-routes' as const;
    const routerModule = LlmRouterModule.forRootAsync({
      imports: [GatewayRedisModule],
      inject: [ConfigService, GatewayRedis],
      useFactory: (c: ConfigService, redis: GatewayRedis): LlmRouterModuleOptions => {
        const given = options.router ?? { policyFile: c.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).policyFile };
        // With LLM_REDIS_URL, every instance reserves from the same tenant budgets and shares circuits.
        const budgetLedger = given.budgetLedger ?? redis.budgetLedger;
        const circuitStore = given.circuitStore ?? redis.circuits;
        return {
          requestContext,
          ...given,
          contextFromRequest: given.contextFromRequest ?? contextFromRequest,
          ...(budgetLedger !== undefined ? { budgetLedger } : {}),
          ...(circuitStore !== undefined ? { circuitStore } : {}),
        };
      },
    });
    const controllers: Type[] = [ModelsController, UsageController, PolicyController, HealthController, MetricsController, AdminController];
    if (config.sampleEndpoints) controllers.push(SupportChatController, BatchSummariesController);
    return {
      module: AppModule,
      imports: [options.configModule, GatewayRedisModule, routerModule, TerminusModule.forRoot({ logger: false })],
      controllers,
      providers: [
        { provide: APP_FILTER, useClass: OpenAiExceptionFilter },
        // Only the decorated sample endpoints read it (requestContext: 'decorated-routes').
        { provide: APP_INTERCEPTOR, useClass: RoutingContextInterceptor },
        LlmRouterHealthIndicator,
        {
          provide: GATEWAY_STORE,
          useFactory: (c: ConfigService) => createStore(c.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).store),
          inject: [ConfigService],
        },
        GatewayMetrics,
        RecordsService,
        ApiKeyService,
        V1Authenticator,
        AuthHook,
        RouteAccessService,
        ChatCompletionsHandler,
        GatewayBudgetsService,
        KeySpend,
        UsageService,
        StoreHealthIndicator,
        RedisHealthIndicator,
      ],
    };
  }
}
