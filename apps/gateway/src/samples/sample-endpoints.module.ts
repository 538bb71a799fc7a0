import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { RoutingContextInterceptor } from '@llm-router/nestjs';
import { BatchesModule } from '../batches/batches.module.js';
import { FilesModule } from '../files/files.module.js';
import { BatchSummariesController } from './batch-summaries.controller.js';
import { SampleAccessGuard } from './sample-access.guard.js';
import { SupportChatController } from './support-chat.controller.js';

/**
 * The sample workflows (`LLM_SAMPLE_ENDPOINTS`), written as any Nest app would
 * use the library: controllers decorated with `@TrafficClass`/`@QualityFloor`
 * and the request-context interceptor that reads the decorators. Under API
 * keys they need a key, as `/v1` does (SampleAccessGuard).
 */
@Module({
  imports: [BatchesModule, FilesModule],
  controllers: [SupportChatController, BatchSummariesController],
  providers: [{ provide: APP_INTERCEPTOR, useClass: RoutingContextInterceptor }, SampleAccessGuard],
})
export class SampleEndpointsModule {}
