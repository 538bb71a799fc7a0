import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Redis } from 'ioredis';
import { RedisBudgetLedgerStore, RedisCircuitStateStore } from '#llm-router';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';

/**
 * The state gateway instances share when `LLM_REDIS_URL` is set (else none):
 * one Redis connection, the tenant budget ledger and the circuits on it. The
 * gateway created them, so the gateway closes them, after everything that
 * uses them.
 */
@Injectable()
export class GatewayRedis implements OnApplicationShutdown {
  readonly client?: Redis;
  readonly budgetLedger?: RedisBudgetLedgerStore;
  readonly circuits?: RedisCircuitStateStore;

  constructor(config: ConfigService) {
    const { redisUrl: url, redisKeyPrefix: prefix } = config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY);
    if (url === undefined) return;
    this.client = new Redis(url, {
      // A budget check must answer soon: a command waits at most this long
      // (queued while the client reconnects), then the class's outage rule applies.
      maxRetriesPerRequest: 1,
      connectTimeout: 1_000,
      commandTimeout: 1_000,
    });
    // Surfaced per command (a refused reservation, a down health check), not as an unhandled event.
    this.client.on('error', () => undefined);
    this.budgetLedger = new RedisBudgetLedgerStore({ client: this.client, keyPrefix: `${prefix}budget:` });
    this.circuits = new RedisCircuitStateStore({ client: this.client, keyPrefix: prefix });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.circuits?.close();
    await this.client?.quit().catch(() => this.client?.disconnect());
  }
}
