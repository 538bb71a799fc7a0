import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { HeldEnds } from '../http/held-ends.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { StoreModule } from '../store/store.module.js';
import { RecordsService } from './records.service.js';

/** The routing records: attributed to their callers, batched into the store, into the metrics and the request log. */
@Module({ imports: [StoreModule, MetricsModule, AuthModule], providers: [RecordsService, HeldEnds], exports: [RecordsService, HeldEnds] })
export class PersistenceModule {}
