import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { BudgetsModule } from '../budgets/budgets.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { StoreModule } from '../store/store.module.js';
import { AdminDeferredController } from './admin-deferred.controller.js';
import { CallbackPolicy } from './callback-policy.js';
import { DeferredController } from './deferred.controller.js';
import { DeferredTries } from './deferred-tries.js';

/** Deferred calls on the gateway: reading them back (GET /v1/deferred/:id, GET /admin/deferred), how their tries are routed and where their callbacks may go. */
@Module({
  imports: [AuthModule, BudgetsModule, PersistenceModule, StoreModule],
  controllers: [DeferredController, AdminDeferredController],
  providers: [DeferredTries, CallbackPolicy],
  exports: [CallbackPolicy],
})
export class DeferredModule {}
