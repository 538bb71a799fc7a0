import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Redis } from 'ioredis';
import { createRedisStoreClient, RedisBudgetLedgerStore, RedisCircuitStateStore, RedisSessionStore } from '@llm-router/nestjs/redis';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';

/**
 * The state gateway instances share when `LLM_REDIS_URL` is set (else none):
 * one Redis connection, the tenant budget ledger, the circuits and the sessions on it, given
 * to the router as its ports (GatewayRouterModule). The gateway created them,
 * so the gateway closes them (StoreModule), once the calls in flight are
 * answered and their records flushed: their settles were sent by then, and
 * `quit` lets them complete.
 */
@Injectable()
export class GatewayRedis implements OnApplicationShutdown {
  readonly client?: Redis;
  readonly budgetLedger?: RedisBudgetLedgerStore;
  readonly circuits?: RedisCircuitStateStore;
  /** `LLM_REDIS_PREFIX`: every key the gateway writes starts with it. */
  readonly keyPrefix: string;
  /** Session pins, so that a session's turns route alike through any instance. */
  readonly sessions?: RedisSessionStore;

  constructor(config: ConfigService) {
    const { redisUrl: url, redisKeyPrefix: prefix } = config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY);
    this.keyPrefix = prefix;
    if (url === undefined) return;
    // The record journal's XADD goes out at once: its entry must be on its way before the caller's last bytes.
    this.client = createRedisStoreClient(url, { writeAtOnce: ['xadd'] });
    this.budgetLedger = new RedisBudgetLedgerStore({ client: this.client, keyPrefix: `${prefix}budget:` });
    this.circuits = new RedisCircuitStateStore({ client: this.client, keyPrefix: prefix });
    this.sessions = new RedisSessionStore({ client: this.client, keyPrefix: `${prefix}session:` });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.circuits?.close();
    if (this.client === undefined) return;
    // quit() is queued behind the commands already sent: settles in flight still land.
    await this.client.quit().catch(() => this.client?.disconnect());
    new Logger('Shutdown').log('shutdown: Redis connection closed');
  }
}
