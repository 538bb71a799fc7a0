import { Module } from '@nestjs/common';
import { JOB_QUEUE, InMemoryJobQueue } from '@llm-router/nestjs';
import { AuthModule } from '../auth/auth.module.js';
import { BudgetsModule } from '../budgets/budgets.module.js';
import { ChatCompletionsModule } from '../chat-completions/chat-completions.module.js';
import { FilesModule } from '../files/files.module.js';
import { StoreModule } from '../store/store.module.js';
import { batchClockProvider } from './batch-clock.js';
import { BatchItemRunner } from './batch-item.runner.js';
import { BatchWatcher } from './batch.watcher.js';
import { BatchesController } from './batches.controller.js';
import { BatchesService } from './batches.service.js';

/** OpenAI's Batch API: batches of chat completions run from the work queue, paused and resumed on the tenant's budget. */
@Module({
  imports: [StoreModule, AuthModule, BudgetsModule, ChatCompletionsModule, FilesModule],
  controllers: [BatchesController],
  // TEMPORARY until wip-queue wires JOB_QUEUE in the gateway: the in-process queue.
  providers: [batchClockProvider, BatchesService, BatchItemRunner, BatchWatcher, { provide: JOB_QUEUE, useFactory: () => new InMemoryJobQueue() }],
  exports: [BatchesService],
})
export class BatchesModule {}
