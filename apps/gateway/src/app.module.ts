import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LlmRouterModule, type LlmRouterModuleOptions } from '#llm-router';
import { BatchSummariesController } from './batch/batch-summaries.controller.js';
import { ChatCompletionsController } from './chat-completions/chat-completions.controller.js';
import { OpenAiExceptionFilter } from './errors/openai-exception.filter.js';
import { HealthController } from './health/health.controller.js';
import { PolicyController } from './policy/policy.controller.js';
import { SupportChatController } from './support-chat/support-chat.controller.js';

/** The gateway application around one LlmRouterModule. */
@Module({})
export class AppModule {
  static register(router: LlmRouterModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [LlmRouterModule.forRoot(router), TerminusModule.forRoot({ logger: false })],
      controllers: [ChatCompletionsController, SupportChatController, BatchSummariesController, PolicyController, HealthController],
      providers: [{ provide: APP_FILTER, useClass: OpenAiExceptionFilter }],
    };
  }
}
