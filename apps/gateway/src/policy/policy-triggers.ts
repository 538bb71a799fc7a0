import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Redis } from 'ioredis';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import { GatewayRedis } from '../redis/gateway-redis.js';
import { PolicyReloadService } from './policy-reload.service.js';

/** Editors write a file in several steps: the watch waits this long after the last event. */
const FILE_SETTLE_MS = 150;

/**
 * What sets a policy change going, besides PUT /admin/policy: the policy
 * file changing on disk (`policyWatch`), another instance's notice on Redis
 * (`<prefix>policy`, a message per appended version: applied within about a
 * round trip), and a periodic look at the store's history every
 * `policySyncMs` (the bound when a notice is missed, or without Redis).
 * SIGHUP is main.ts's (a process signal belongs to the process, not to an app).
 */
@Injectable()
export class PolicyTriggers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Policy');
  private readonly config: GatewayConfig;
  private watcher?: FSWatcher;
  private settle?: NodeJS.Timeout;
  private timer?: NodeJS.Timeout;
  private subscriber?: Redis;

  constructor(
    private readonly reload: PolicyReloadService,
    private readonly redis: GatewayRedis,
    config: ConfigService,
  ) {
    this.config = config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY);
  }

  private get channel(): string {
    return `${this.config.redisKeyPrefix}policy`;
  }

  async onApplicationBootstrap(): Promise<void> {
    const file = this.reload.policyFile;
    if (this.config.policyWatch && file !== undefined) this.watchFile(file);
    if (this.config.policySyncMs > 0) {
      this.timer = setInterval(() => void this.reload.sync().catch((err: unknown) => this.logger.warn(`policy history not read: ${(err as Error).message}`)), this.config.policySyncMs);
      this.timer.unref();
    }
    const client = this.redis.client;
    if (client === undefined) return;
    this.reload.onAppended((version) => void client.publish(this.channel, version.id).catch(() => undefined));
    // A subscribed connection can do nothing else: its own.
    this.subscriber = client.duplicate();
    this.subscriber.on('message', () => void this.reload.sync().catch(() => undefined));
    this.subscriber.on('error', () => undefined);
    await this.subscriber.subscribe(this.channel).catch((err: unknown) => this.logger.warn(`policy notices not received (the periodic check remains): ${(err as Error).message}`));
  }

  /** The directory is watched, not the file: an editor's save often replaces the file (a rename), which ends a watch on it. */
  private watchFile(file: string): void {
    const name = basename(file);
    this.watcher = watch(dirname(file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      clearTimeout(this.settle);
      this.settle = setTimeout(() => {
        this.reload.reloadFile('file', file).then(
          (r) => r.changed || this.logger.log(`policy file ${file} touched, content unchanged (${r.version.id})`),
          (err: unknown) => this.logger.error(`policy file ${file} changed but was not applied, keeping the running policy:\n${(err as Error).message}`),
        );
      }, FILE_SETTLE_MS);
    });
    this.watcher.on('error', (err) => this.logger.warn(`policy file watch stopped: ${err.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    this.watcher?.close();
    clearTimeout(this.settle);
    clearInterval(this.timer);
    if (this.subscriber) await this.subscriber.quit().catch(() => this.subscriber?.disconnect());
  }
}
