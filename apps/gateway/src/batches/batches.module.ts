import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { BudgetsModule } from '../budgets/budgets.module.js';
import { ChatCompletionsModule } from '../chat-completions/chat-completions.module.js';
import { FilesModule } from '../files/files.module.js';
import { StoreModule } from '../store/store.module.js';
import { AdminBatchesController } from './admin-batches.controller.js';
import { batchClockProvider } from './batch-clock.js';
import { BatchItemRunner } from './batch-item.runner.js';
import { BatchWatcher } from './batch.watcher.js';
import { BatchesController } from './batches.controller.js';
import { BatchesService } from './batches.service.js';

/** OpenAI's Batch API: batches of chat completions run from the work queue, paused and resumed on the tenant's budget. */
@Module({
  imports: [StoreModule, AuthModule, BudgetsModule, ChatCompletionsModule, FilesModule],
  controllers: [BatchesController, AdminBatchesController],
  // JOB_QUEUE comes from the router module: BullMQ with LLM_REDIS_URL, else the store's own queue.
  providers: [batchClockProvider, BatchesService, BatchItemRunner, BatchWatcher],
  exports: [BatchesService],
})
export class BatchesModule {}
