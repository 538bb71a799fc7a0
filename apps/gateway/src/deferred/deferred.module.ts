import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { BudgetsModule } from '../budgets/budgets.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { DeferredController } from './deferred.controller.js';
import { DeferredTries } from './deferred-tries.js';

/** Deferred calls on the gateway: reading them back (GET /v1/deferred/:id) and how their tries are routed. */
@Module({ imports: [AuthModule, BudgetsModule, PersistenceModule], controllers: [DeferredController], providers: [DeferredTries] })
export class DeferredModule {}
