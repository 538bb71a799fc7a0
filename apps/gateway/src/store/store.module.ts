import { Logger, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import { GatewayRedis } from '../redis/gateway-redis.js';
import { createStore } from './create-store.js';
import type { GatewayStore } from './gateway-store.js';
import { GATEWAY_STORE } from './store.tokens.js';

/**
 * The gateway's state outside the process: the GatewayStore (SQLite or
 * PostgreSQL) and, with `LLM_REDIS_URL`, the shared Redis (the router's
 * budget ledger and circuits). Every module that uses either imports this
 * one, so Nest shuts them all down before it: the records' final flush comes
 * before the store and the Redis connection close.
 */
@Module({
  providers: [
    {
      provide: GATEWAY_STORE,
      useFactory: (c: ConfigService) => createStore(c.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).store),
      inject: [ConfigService],
    },
    { provide: GatewayRedis, useFactory: (c: ConfigService) => GatewayRedis.open(c), inject: [ConfigService] },
  ],
  exports: [GATEWAY_STORE, GatewayRedis],
})
export class StoreModule implements OnApplicationShutdown {
  constructor(@Inject(GATEWAY_STORE) private readonly store: GatewayStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    new Logger('Shutdown').log(`shutdown: ${this.store.kind} store closed`);
  }
}
