import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { StoreModule } from '../store/store.module.js';
import { GatewayBudgetsService } from './gateway-budgets.service.js';

/** The gateway's budgets: each key's own (given to the router with its calls) and the tenants' (stored, restored, refreshed, rebuilt). */
@Module({ imports: [StoreModule, AuthModule, PersistenceModule], providers: [GatewayBudgetsService], exports: [GatewayBudgetsService] })
export class BudgetsModule {}
