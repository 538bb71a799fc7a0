import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RecordsService } from '../persistence/records.service.js';
import { answerWithin } from './answer-within.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';

/** Terminus indicator for the store: up when a trivial query answers within 2 s. */
@Injectable()
export class StoreHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(GATEWAY_STORE) private readonly store: GatewayStore,
    private readonly records: RecordsService,
  ) {}

  async isHealthy<const Key extends string = 'store'>(key: Key = 'store' as Key): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    const details = { kind: this.store.kind, pendingRecords: this.records.pending };
    try {
      await answerWithin(this.store.ping(), 2_000);
      return indicator.up(details);
    } catch (err) {
      return indicator.down({ ...details, error: err instanceof Error ? err.message : String(err) });
    }
  }
}
