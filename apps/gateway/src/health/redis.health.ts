import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { GatewayRedis } from '../redis/gateway-redis.js';
import { answerWithin } from './answer-within.js';

/** How Redis keeps its data across a restart; `unknown` when it does not say (CONFIG not allowed, and no AOF in INFO). */
export type RedisPersistence = 'aof+rdb' | 'aof' | 'rdb' | 'none' | 'unknown';

/**
 * Terminus indicator for the shared Redis (`LLM_REDIS_URL`): up when PING
 * answers within 2 s. Without it budget reservations follow each class's
 * `onBudgetStoreUnavailable` rule and circuits are per instance. It also says
 * how Redis persists its data: without persistence a restart empties the
 * ledger, which the gateway then rebuilds from the records (see the README).
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
    } catch (err) {
      return indicator.down({ connection: client.status, error: err instanceof Error ? err.message : String(err) });
    }
    const persistence = await answerWithin(redisPersistence(client), 2_000).catch((): RedisPersistence => 'unknown');
    return indicator.up({ connection: client.status, persistence, ...(persistence === 'none' ? { warning: NO_PERSISTENCE } : {}) });
  }
}

const NO_PERSISTENCE =
  'Redis runs without persistence (no RDB snapshots, no AOF): a restart empties the budget ledger. The gateway rebuilds each tenant from the routing records before serving it again; calls in flight at the restart, and on per-instance SQLite stores the other instances\' spend, are not in them.';

/**
 * `CONFIG GET save` and `appendonly`; where CONFIG is renamed or forbidden
 * (managed Redis), `INFO persistence`, which tells whether the AOF is on but
 * not whether snapshots are scheduled.
 */
export async function redisPersistence(client: Redis): Promise<RedisPersistence> {
  let save: unknown;
  let appendonly: unknown;
  try {
    [save, appendonly] = await Promise.all([client.config('GET', 'save'), client.config('GET', 'appendonly')]);
  } catch {
    return /^aof_enabled:1\s*$/m.test(await client.info('persistence')) ? 'aof' : 'unknown';
  }
  const rdb = String((save as unknown[])[1] ?? '').trim() !== '';
  const aof = (appendonly as unknown[])[1] === 'yes';
  return aof && rdb ? 'aof+rdb' : aof ? 'aof' : rdb ? 'rdb' : 'none';
}
