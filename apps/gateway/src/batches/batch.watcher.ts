import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Subscription } from 'rxjs';
import { GatewayBudgetsService } from '../budgets/gateway-budgets.service.js';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import type { BatchStore } from '../store/batch-store.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import { BATCH_CLOCK, type Clock } from './batch-clock.js';
import { BatchItemRunner } from './batch-item.runner.js';
import { BatchesService } from './batches.service.js';

/** A batch left in `finalizing` this long (its finalizer died) is finalized again. */
const STALE_FINALIZING_MS = 30_000;

/**
 * Moves batches along when nothing else does, every `batchWatchMs`: a paused
 * batch whose window has ended (the UTC day rolled over, a new budget period)
 * resumes; one past its completion window expires; a cancelling batch whose
 * last items ended elsewhere, or one whose finalizer died, is finalized. A
 * tenant budget set or raised (on any instance) resumes that tenant's paused
 * batches at once: the items tell whether it is enough.
 */
@Injectable()
export class BatchWatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('BatchWatcher');
  private readonly store: BatchStore;
  private readonly everyMs: number;
  private timer?: NodeJS.Timeout;
  private budgetChanges?: Subscription;
  private round?: Promise<void>;

  constructor(
    @Inject(GATEWAY_STORE) store: GatewayStore,
    @Inject(BATCH_CLOCK) private readonly clock: Clock,
    private readonly batches: BatchesService,
    private readonly runner: BatchItemRunner,
    private readonly budgets: GatewayBudgetsService,
    config: ConfigService,
  ) {
    this.store = store.batches;
    this.everyMs = config.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY).batchWatchMs;
  }

  onApplicationBootstrap(): void {
    this.budgetChanges = this.budgets.tenantBudgetChanged$.subscribe((tenant) => void this.resumeTenant(tenant).catch((err: unknown) => this.warn(err)));
    this.timer = setInterval(() => {
      // One round at a time: a slow store never stacks them up.
      this.round ??= this.watch()
        .catch((err: unknown) => this.warn(err))
        .finally(() => (this.round = undefined));
    }, this.everyMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.budgetChanges?.unsubscribe();
    await this.round;
  }

  /** One round over the batches that are not final. */
  async watch(): Promise<void> {
    const now = this.clock();
    const open = await this.store.batchesIn(['in_progress', 'cancelling', 'finalizing']);
    // Batches another instance created: their tenants' items are worked here too.
    for (const batch of open) if (batch.status === 'in_progress') this.runner.workFor(batch.tenant);
    for (const batch of open) {
      if (batch.status === 'in_progress' && now >= batch.expiresAt) await this.batches.expire(batch);
      else if (batch.status === 'in_progress' && batch.pause !== null && now >= batch.pause.resumeAt) await this.batches.resume(batch, `its ${batch.pause.reason} window ended`);
      else if (batch.status === 'cancelling') await this.batches.endUnstartedAndFinalize(batch, 'cancelled');
      else if (batch.status === 'finalizing' && now - (batch.finalizingAt ?? now) >= STALE_FINALIZING_MS) {
        await this.batches.finalize(batch.id);
      } else if (batch.status === 'in_progress') await this.batches.finalize(batch.id);
    }
  }

  private async resumeTenant(tenant: string): Promise<void> {
    for (const batch of await this.store.batchesIn(['in_progress'])) {
      if (batch.tenant === tenant && batch.pause !== null) await this.batches.resume(batch, 'its tenant budget was changed');
    }
  }

  private warn(err: unknown): void {
    this.logger.warn(`batch watch: ${err instanceof Error ? err.message : String(err)}`);
  }
}
