import { Module } from '@nestjs/common';
import { BudgetsModule } from '../budgets/budgets.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { StoreModule } from '../store/store.module.js';
import { UsageController } from './usage.controller.js';
import { UsageService } from './usage.service.js';

/** Usage over the persisted records: GET /v1/usage, and the reports the admin API serves. */
@Module({ imports: [StoreModule, PersistenceModule, BudgetsModule], controllers: [UsageController], providers: [UsageService], exports: [UsageService] })
export class UsageModule {}
