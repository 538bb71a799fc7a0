import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { JobQueue } from '@llm-router/nestjs';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import type { GatewayRedis } from '../redis/gateway-redis.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { SqlJobQueue } from './sql-job-queue.js';

/**
 * The gateway's work queue (deferred calls, batch items): BullMQ on the
 * gateway's Redis connection when `LLM_REDIS_URL` is set, so every instance
 * works the same jobs; else the embedded queue on the gateway's own SQL
 * store. JobsModule imports StoreModule, so at shutdown the queue's workers
 * close before the store and the Redis connection they use. BullMQ is loaded
 * only when Redis is configured (JobsModule's factory calls `open`).
 */
export class GatewayJobQueue implements OnApplicationShutdown {
  private constructor(readonly queue: JobQueue) {}

  static async open(store: GatewayStore, redis: GatewayRedis, config: ConfigService): Promise<GatewayJobQueue> {
    const leaseMs = config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).queueLeaseMs;
    if (redis.client === undefined) return new GatewayJobQueue(new SqlJobQueue(store.jobs, { leaseMs }));
    const { BullMqJobQueue } = await import('@llm-router/nestjs/bullmq');
    // Under LLM_REDIS_PREFIX like every gateway key; the {hash tag} keeps each queue in one Cluster slot.
    return new GatewayJobQueue(
      new BullMqJobQueue({ connection: redis.client, prefix: `${redis.keyPrefix}{jobs}`, lockDurationMs: leaseMs, stalledIntervalMs: Math.max(500, Math.floor(leaseMs / 2)) }),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
    new Logger('Shutdown').log('shutdown: work queue closed');
  }
}
