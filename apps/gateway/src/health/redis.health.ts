import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { GatewayRedis } from '../redis/gateway-redis.js';
import { answerWithin } from './answer-within.js';

/**
 * Terminus indicator for the shared Redis (`LLM_REDIS_URL`): up when PING
 * answers within 2 s. Without it budget reservations follow each class's
 * `onBudgetStoreUnavailable` rule and circuits are per instance.
 */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly redis: GatewayRedis,
  ) {}

  /** False when no Redis is configured: the checks leave it out. */
  get configured(): boolean {
    return this.redis.client !== undefined;
  }

  async isHealthy<const Key extends string = 'redis'>(key: Key = 'redis' as Key): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    const client = this.redis.client;
    if (client === undefined) return indicator.up({ configured: false });
    try {
      await answerWithin(client.ping(), 2_000);
      return indicator.up({ connection: client.status });
    } catch (err) {
      return indicator.down({ connection: client.status, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
