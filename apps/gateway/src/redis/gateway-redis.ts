import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Redis } from 'ioredis';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';

/**
 * The gateway's Redis connection when `LLM_REDIS_URL` is set (else none): the
 * shared budget ledger runs on it and the health checks ping it. The gateway
 * created it, so the gateway closes it, after everything that uses it.
 */
@Injectable()
export class GatewayRedis implements OnApplicationShutdown {
  readonly client?: Redis;

  constructor(config: ConfigService) {
    const url = config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).redisUrl;
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
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client?.quit().catch(() => this.client?.disconnect());
  }
}
