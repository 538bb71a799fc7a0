import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { JobQueue } from '@llm-router/nestjs';
import { BullMqJobQueue } from '@llm-router/nestjs/bullmq';
import { GatewayRedis } from '../redis/gateway-redis.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import { SqlJobQueue } from './sql-job-queue.js';

/**
 * The gateway's work queue (deferred calls, batch items): BullMQ on the
 * gateway's Redis connection when `LLM_REDIS_URL` is set, so every instance
 * works the same jobs; else the embedded queue on the gateway's own SQL
 * store. JobsModule imports StoreModule, so at shutdown the queue's workers
 * close before the store and the Redis connection they use.
 */
@Injectable()
export class GatewayJobQueue implements OnApplicationShutdown {
  readonly queue: JobQueue;

  constructor(@Inject(GATEWAY_STORE) store: GatewayStore, redis: GatewayRedis) {
    this.queue =
      redis.client !== undefined
        ? new BullMqJobQueue({ connection: redis.client, prefix: `{${redis.keyPrefix}jobs}` })
        : new SqlJobQueue(store.jobs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
    new Logger('Shutdown').log('shutdown: work queue closed');
  }
}
