import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { GatewayRedis } from '../redis/gateway-redis.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { StoreModule } from '../store/store.module.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import { GatewayJobQueue } from './gateway-job-queue.js';

/** The gateway's work queue, on Redis or on its SQL store (see GatewayJobQueue). */
@Module({
  imports: [StoreModule],
  providers: [
    {
      provide: GatewayJobQueue,
      useFactory: (store: GatewayStore, redis: GatewayRedis, config: ConfigService) => GatewayJobQueue.open(store, redis, config),
      inject: [GATEWAY_STORE, GatewayRedis, ConfigService],
    },
  ],
  exports: [GatewayJobQueue],
})
export class JobsModule {}
