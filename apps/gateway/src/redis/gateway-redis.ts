import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigService } from '@nestjs/config';
import type { RedisBudgetLedgerStore, RedisCircuitStateStore, RedisSessionStore, WriteCoalescingRedis } from '@llm-router/nestjs/redis';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';

/**
 * The state gateway instances share when `LLM_REDIS_URL` is set (else none):
 * one Redis connection, the tenant budget ledger, the circuits and the sessions on it, given
 * to the router as its ports (GatewayRouterModule). The gateway created them,
 * so the gateway closes them (StoreModule), once the calls in flight are
 * answered and their records flushed: their settles were sent by then, and
 * `quit` lets them complete.
 *
 * Opened by `GatewayRedis.open` (StoreModule's factory), which loads ioredis
 * only when `LLM_REDIS_URL` is set: the embedded configuration does not carry
 * the client's code in its memory.
 */
export class GatewayRedis implements OnApplicationShutdown {
  readonly client?: WriteCoalescingRedis;
  readonly budgetLedger?: RedisBudgetLedgerStore;
  readonly circuits?: RedisCircuitStateStore;
  /** `LLM_REDIS_PREFIX`: every key the gateway writes starts with it. */
  readonly keyPrefix: string;
  /** Session pins, so that a session's turns route alike through any instance. */
  readonly sessions?: RedisSessionStore;

  private constructor(keyPrefix: string, shared?: Pick<GatewayRedis, 'client' | 'budgetLedger' | 'circuits' | 'sessions'>) {
    this.keyPrefix = keyPrefix;
    this.client = shared?.client;
    this.budgetLedger = shared?.budgetLedger;
    this.circuits = shared?.circuits;
    this.sessions = shared?.sessions;
  }

  static async open(config: ConfigService): Promise<GatewayRedis> {
    const { redisUrl: url, redisKeyPrefix: prefix, redisCommandTimeoutMs: commandTimeoutMs } = config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY);
    if (url === undefined) return new GatewayRedis(prefix);
    const { createRedisStoreClient, RedisBudgetLedgerStore, RedisCircuitStateStore, RedisSessionStore } = await import('@llm-router/nestjs/redis');
    // The record journal's XADD goes out at the end of the ledger's writeTogether step (with the call's settle), else
    // with the pass's write, which the caller's last bytes then wait for (RedisRecordJournal, HeldEnds).
    const client = createRedisStoreClient(url, { writeAtStepEnd: ['xadd'], commandTimeoutMs });
    return new GatewayRedis(prefix, {
      client,
      budgetLedger: new RedisBudgetLedgerStore({ client, keyPrefix: `${prefix}budget:` }),
      circuits: new RedisCircuitStateStore({ client, keyPrefix: prefix }),
      sessions: new RedisSessionStore({ client, keyPrefix: `${prefix}session:` }),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.circuits?.close();
    if (this.client === undefined) return;
    // quit() is queued behind the commands already sent: settles in flight still land.
    await this.client.quit().catch(() => this.client?.disconnect());
    new Logger('Shutdown').log('shutdown: Redis connection closed');
  }
}
