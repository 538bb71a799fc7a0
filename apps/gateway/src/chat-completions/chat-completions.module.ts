import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { BudgetsModule } from '../budgets/budgets.module.js';
import { DeferredModule } from '../deferred/deferred.module.js';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { ShutdownGrace } from '../http/shutdown-grace.js';
import { ChatCompletionsHandler } from './chat-completions.handler.js';
import { RouteAccessService } from './route-access.service.js';
import { RoutingExplainController } from './routing-explain.controller.js';
import { RoutingExplainer } from './routing-explainer.service.js';

/** POST /v1/chat/completions, served on the fast lane (see http/gateway-http-server.ts) by its handler; POST /v1/routing/explain, its dry run. */
@Module({
  imports: [AuthModule, BudgetsModule, DeferredModule, PersistenceModule],
  controllers: [RoutingExplainController],
  providers: [ChatCompletionsHandler, RouteAccessService, RoutingExplainer, ShutdownGrace],
  exports: [ChatCompletionsHandler, RouteAccessService, ShutdownGrace],
})
export class ChatCompletionsModule {}
