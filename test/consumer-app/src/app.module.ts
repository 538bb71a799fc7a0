import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { LlmRouterModule, RoutingContextInterceptor } from '@llm-router/nestjs';
import { LlmRouterHealthModule } from '@llm-router/nestjs/health';
import { HealthController } from './health.controller.js';
import { supportPolicy } from './policy.js';
import { RecordsService } from './records.service.js';
import { SupportController } from './support.controller.js';

@Module({
  imports: [
    LlmRouterModule.forRootAsync({
      useFactory: () => {
        const simUrl = process.env.SIM_URL;
        if (!simUrl) throw new Error('SIM_URL is not set');
        return { policy: supportPolicy(simUrl) };
      },
    }),
    LlmRouterHealthModule,
  ],
  controllers: [SupportController, HealthController],
  providers: [RecordsService, { provide: APP_INTERCEPTOR, useClass: RoutingContextInterceptor }],
})
export class AppModule {}
