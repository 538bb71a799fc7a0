import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { BudgetsModule } from '../budgets/budgets.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { AdminController } from './admin.controller.js';
import { CircuitsController } from './circuits.controller.js';

/** The admin API (/admin/*, behind LLM_ADMIN_KEY): keys, tenant budgets, usage, the report, circuits. */
@Module({ imports: [AuthModule, BudgetsModule, UsageModule], controllers: [AdminController, CircuitsController] })
export class AdminModule {}
