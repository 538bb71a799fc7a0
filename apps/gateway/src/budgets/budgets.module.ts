import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { StoreModule } from '../store/store.module.js';
import { GatewayBudgetsService } from './gateway-budgets.service.js';
import { KeySpend } from './key-spend.js';

/** The gateway's budgets: each key's own (spend and admission) and the tenants' (stored, restored, refreshed). */
@Module({ imports: [StoreModule, AuthModule, PersistenceModule], providers: [GatewayBudgetsService, KeySpend], exports: [GatewayBudgetsService] })
export class BudgetsModule {}
