import { Module, type DynamicModule } from '@nestjs/common';
import type { LlmRouterModuleOptions } from '@llm-router/nestjs';
import { AdminModule } from './admin/admin.module.js';
import { AuthModule } from './auth/auth.module.js';
import { BatchesModule } from './batches/batches.module.js';
import { BudgetsModule } from './budgets/budgets.module.js';
import { ChatCompletionsModule } from './chat-completions/chat-completions.module.js';
import { DeferredModule } from './deferred/deferred.module.js';
import type { GatewayConfig } from './config/gateway.config.js';
import { ConsoleModule } from './console/console.module.js';
import { ErrorsModule } from './errors/errors.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { ModelsModule } from './models/models.module.js';
import { PersistenceModule } from './persistence/persistence.module.js';
import { PolicyModule } from './policy/policy.module.js';
import { RecordsModule } from './records/records.module.js';
import { ResponsesModule } from './responses/responses.module.js';
import { GatewayRouterModule } from './router/gateway-router.module.js';
import { SampleEndpointsModule } from './samples/sample-endpoints.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { StoreModule } from './store/store.module.js';
import { UsageModule } from './usage/usage.module.js';

export interface AppModuleOptions {
  config: GatewayConfig;
  /** The ConfigModule that carries `config` under `gateway` (env-validated in main.ts, given in tests). */
  configModule: DynamicModule | Promise<DynamicModule>;
  /** The router options; absent = the policy file from the config. */
  router?: LlmRouterModuleOptions;
}

/** The gateway application: one LlmRouterModule and the gateway's feature modules around it. */
@Module({})
export class AppModule {
  static register({ config, configModule, router }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        configModule,
        GatewayRouterModule.register(config, router),
        ErrorsModule,
        StoreModule,
        MetricsModule,
        AuthModule,
        PersistenceModule,
        BudgetsModule,
        ChatCompletionsModule,
        DeferredModule,
        UsageModule,
        AdminModule,
        HealthModule,
        ModelsModule,
        PolicyModule,
        RecordsModule,
        SessionsModule,
        ResponsesModule,
        ConsoleModule,
        BatchesModule,
        ...(config.sampleEndpoints ? [SampleEndpointsModule] : []),
      ],
    };
  }
}
