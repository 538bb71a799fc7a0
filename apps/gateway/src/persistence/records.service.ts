import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LlmRouter, type RoutingRecord } from '@llm-router/nestjs';
import type { Subscription } from 'rxjs';
import type { Principal } from '../auth/key-scope.js';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import { RequestLog } from '../logging/request-log.js';
import { GatewayMetrics, type RecordQueue } from '../metrics/gateway-metrics.js';
import type { GatewayStore } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import { RecordWriter } from './record-writer.js';
import { toRecordRow } from './record-row.js';

/** Attribution entries kept for calls whose record has not arrived yet. */
const MAX_IN_FLIGHT = 50_000;

/**
 * The one subscriber of `router.records$`: each record is attributed to the
 * API key that made the call, then fanned out to the batched store writer,
 * the metrics and the request log. That
 * bookkeeping runs once the event loop reaches its check phase (setImmediate), after the
 * response that produced the record has been written: it costs tens of
 * microseconds per call, and a caller should not wait for it. Nothing a
 * caller sends after its response can be handled before it. The store write
 * happens later still, in batches.
 */
@Injectable()
export class RecordsService implements RecordQueue, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Records');
  private readonly config: GatewayConfig;
  private readonly writer: RecordWriter;
  private readonly requestLog?: RequestLog;
  private readonly inFlight = new Map<string, Principal>();
  private subscription?: Subscription;
  private closed = false;
  /** Records waiting for the check phase. */
  private queued: RoutingRecord[] = [];
  private readonly drain = (): void => {
    const records = this.queued;
    this.queued = [];
    for (const record of records) this.onRecord(record);
  };

  constructor(
    @Inject(GATEWAY_STORE) store: GatewayStore,
    private readonly router: LlmRouter,
    private readonly metrics: GatewayMetrics,
    configService: ConfigService,
  ) {
    this.config = configService.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY);
    let lastErrorLog = 0;
    this.writer = new RecordWriter(store, {
      flushMs: this.config.recordFlushMs,
      batchSize: this.config.recordBatchSize,
      onError: (err, rows) => {
        const now = Date.now();
        if (now - lastErrorLog < 10_000) return;
        lastErrorLog = now;
        this.logger.error(`could not write ${rows} routing records (kept for the next try): ${err instanceof Error ? err.message : String(err)}`);
      },
      onDeadLetter: (row, err) => this.logger.error(`routing record ${row.requestId} refused by the store, kept in llm_dead_records: ${err instanceof Error ? err.message : String(err)}`),
    });
    if (this.config.requestLog) this.requestLog = new RequestLog(this.config.requestLogSink);
    metrics.watchRecords(this);
  }

  onModuleInit(): void {
    this.subscription = this.router.records$.subscribe({
      next: (record) => {
        if (this.queued.push(record) === 1) setImmediate(this.drain);
      },
      error: (err: unknown) => this.logger.error(`routing record stream failed: ${String(err)}`),
    });
  }

  /** Called on the request path before routing: ties the coming record to its caller. */
  attribute(requestId: string, principal: Principal): void {
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      // Never expected (every call emits its record); bound the map regardless.
      const oldest = this.inFlight.keys().next().value;
      if (oldest !== undefined) this.inFlight.delete(oldest);
    }
    this.inFlight.set(requestId, principal);
  }

  /** Write every waiting record now: read-your-writes for the usage reports. */
  flush(): Promise<void> {
    this.drain();
    return this.writer.flush();
  }

  get pending(): number {
    return this.queued.length + this.writer.waiting;
  }

  /** Records dropped because the store failed for too long (since start). */
  get dropped(): number {
    return this.writer.dropped;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscription?.unsubscribe();
    this.drain();
    this.requestLog?.flush();
    // The store closes after this (StoreModule, which this module imports, shuts down later).
    await this.writer.close();
    if (this.writer.waiting > 0) this.logger.error(`${this.writer.waiting} routing records could not be written at shutdown`);
  }

  private onRecord(record: RoutingRecord): void {
    const principal = this.inFlight.get(record.requestId);
    if (principal !== undefined) this.inFlight.delete(record.requestId);
    const keyId = principal?.keyId ?? undefined;
    try {
      this.writer.push(toRecordRow(record, keyId, this.router.policy));
      this.metrics.observe(record);
      this.requestLog?.write(record, keyId);
    } catch (err) {
      this.logger.error(`could not process routing record ${record.requestId}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
