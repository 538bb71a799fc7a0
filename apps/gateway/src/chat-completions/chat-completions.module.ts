import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { BudgetsModule } from '../budgets/budgets.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { ShutdownGrace } from '../http/shutdown-grace.js';
import { ChatCompletionsHandler } from './chat-completions.handler.js';
import { RouteAccessService } from './route-access.service.js';

/** POST /v1/chat/completions, served on the fast lane (see http/gateway-http-server.ts) by its handler. */
@Module({ imports: [AuthModule, BudgetsModule, PersistenceModule], providers: [ChatCompletionsHandler, RouteAccessService, ShutdownGrace], exports: [ChatCompletionsHandler, ShutdownGrace, RouteAccessService] })
export class ChatCompletionsModule {}
