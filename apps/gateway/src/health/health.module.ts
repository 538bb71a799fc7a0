import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LlmRouterHealthIndicator } from '@llm-router/nestjs/health';
import { PersistenceModule } from '../persistence/persistence.module.js';
import { StoreModule } from '../store/store.module.js';
import { HealthController } from './health.controller.js';
import { RedisHealthIndicator } from './redis.health.js';
import { StoreHealthIndicator } from './store.health.js';

/** GET /health, /health/live, /health/ready: the router's circuits, the store and the shared Redis. */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), StoreModule, PersistenceModule],
  controllers: [HealthController],
  providers: [LlmRouterHealthIndicator, StoreHealthIndicator, RedisHealthIndicator],
})
export class HealthModule {}
