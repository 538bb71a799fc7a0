import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LlmRouter, type RoutingRecord } from '@llm-router/nestjs';
import type { Subscription } from 'rxjs';
import { ApiKeyService } from '../auth/api-key.service.js';
import { KEY_LABEL } from '../auth/keyed-context.js';
import type { Principal } from '../auth/key-scope.js';
import { GATEWAY_CONFIG_KEY, type GatewayConfig } from '../config/gateway.config.js';
import { RequestLog } from '../logging/request-log.js';
import { HeldEnds } from '../http/held-ends.js';
import { GatewayMetrics, type RecordQueue } from '../metrics/gateway-metrics.js';
import { GatewayRedis } from '../redis/gateway-redis.js';
import type { GatewayStore, RecordRow } from '../store/gateway-store.js';
import { GATEWAY_STORE } from '../store/store.tokens.js';
import { createRecordJournal } from './create-record-journal.js';
import { NoRecordJournal, type RecordJournal } from './record-journal.js';
import { RecordWriter } from './record-writer.js';
import { toRecordRow } from './record-row.js';

/** How often the journal is swept for the records of processes that died. */
const JOURNAL_SWEEP_MS = 30_000;

/** A record taken off the router's stream: its caller and its journaled row. */
interface Journaled {
  readonly record: RoutingRecord;
  readonly principal: Principal | undefined;
  readonly row: RecordRow | undefined;
}

/**
 * The one subscriber of `router.records$`: each record is attributed to the
 * API key that made the call (by the key label the call's options carry, not
 * by a map of calls in flight: a long-lived table, rebuilt as ids come and go,
 * kept each id through V8's young collections), turned into its store row and
 * appended to the journal at once, as the router emits it: before the caller's
 * last bytes (the router emits a call's record before it completes, and before the
 * call's budget settle). A caller who saw an answer, and a ledger that booked
 * its cost, can count on the record surviving a crash: at start-up
 * (`onModuleInit`, before the server listens and before budgets are restored
 * from the records) whatever a dead process journaled is written to the
 * store. The rest, the batched store writer, the metrics, the request log and
 * runs once the event loop reaches its
 * check phase (setImmediate), after the response has been written: a caller
 * should not wait for it. Nothing a caller sends after its response can be
 * handled before it. The store write happens later still, in batches; once a
 * batch is in, its journal entries are forgotten.
 */
@Injectable()
export class RecordsService implements RecordQueue, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Records');
  private readonly config: GatewayConfig;
  private readonly writer: RecordWriter;
  private readonly journal: RecordJournal;
  private readonly requestLog?: RequestLog;
  private subscription?: Subscription;
  private sweepTimer?: NodeJS.Timeout;
  private recovering = false;
  private closed = false;
  /** Records waiting for the check phase, with their rows and callers. */
  private queued: Journaled[] = [];
  private readonly drain = (): void => {
    const entries = this.queued;
    this.queued = [];
    for (const entry of entries) this.fanOut(entry);
  };

  constructor(
    @Inject(GATEWAY_STORE) private readonly store: GatewayStore,
    private readonly router: LlmRouter,
    private readonly metrics: GatewayMetrics,
    private readonly keys: ApiKeyService,
    configService: ConfigService,
    redis: GatewayRedis,
    ends: HeldEnds,
  ) {
    this.config = configService.getOrThrow<GatewayConfig>(GATEWAY_CONFIG_KEY);
    this.journal = createRecordJournal(this.config, redis.client, ends, (message) => this.logger.error(message));
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
      onDeadLetter: (row, err) => this.logger.error(`routing record ${row.requestId} refused by the store, kept in llm_dead_records: ${err instanceof Error ? err.message : String(err)}`, { requestId: row.requestId }),
      onWritten: (rows) => this.journal.written(rows),
    });
    if (this.config.requestLog) this.requestLog = new RequestLog(this.config.requestLogSink);
    metrics.watchRecords(this);
  }

  /** Start-up, before the server listens: what a dead process journaled goes to the store first; then records are taken. */
  async onModuleInit(): Promise<void> {
    await this.recover(true);
    this.subscription = this.router.records$.subscribe({
      next: (record) => this.take(record),
      error: (err: unknown) => this.logger.error(`routing record stream failed: ${String(err)}`),
    });
    // Orphans of processes that died later (another instance of the fleet), or left by a store that failed, are swept now and then.
    if (!(this.journal instanceof NoRecordJournal)) {
      this.sweepTimer = setInterval(() => void this.recover(false), JOURNAL_SWEEP_MS);
      this.sweepTimer.unref();
    }
  }

  /** Write every waiting record now: read-your-writes for the usage reports. */
  flush(): Promise<void> {
    this.drain();
    return this.writer.flush();
  }

  get pending(): number {
    return this.queued.length + this.writer.waiting;
  }

  /** Records dropped because the store failed for too long (since start); their journal entries stay for the next recovery. */
  get dropped(): number {
    return this.writer.dropped;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    // The calls have ended (the server is closed): their settles land before Redis closes (StoreModule, later).
    const retried = await this.router.settleOutstanding();
    if (retried > 0) this.logger.log(`shutdown: ${retried} budget settles that had failed tried once more`);
    this.subscription?.unsubscribe();
    this.drain();
    this.requestLog?.flush();
    // The store and Redis close after this (StoreModule, which this module imports, shuts down later).
    const before = this.writer.written;
    await this.writer.close();
    if (this.writer.waiting > 0) this.logger.error(`${this.writer.waiting} routing records could not be written at shutdown (kept in the ${this.journal.description} for the next start)`);
    this.logger.log(`shutdown: the last ${this.writer.written - before} routing records written`);
    await this.journal.close();
  }

  /** Writes what dead processes journaled, idempotently; a store that fails leaves it for the next sweep. */
  private async recover(startUp: boolean): Promise<void> {
    if (this.recovering) return;
    this.recovering = true;
    try {
      const recovered = await this.journal.recover((rows) => this.writeRecovered(rows), startUp);
      if (recovered > 0) this.logger.warn(`${recovered} routing records journaled by a process that is gone were written to the store (${this.journal.description})`);
    } catch (err) {
      this.logger.error(`could not recover journaled routing records (kept for the next try): ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.recovering = false;
    }
  }

  /** One batch of recovered rows through a writer of its own: a row the store refuses is dead-lettered, a failing store throws. */
  private async writeRecovered(rows: RecordRow[]): Promise<void> {
    const writer = new RecordWriter(this.store, {
      flushMs: 60_000,
      batchSize: rows.length,
      onDeadLetter: (row, err) => this.logger.error(`journaled routing record ${row.requestId} refused by the store, kept in llm_dead_records: ${err instanceof Error ? err.message : String(err)}`, { requestId: row.requestId }),
    });
    for (const row of rows) writer.push(row);
    await writer.close();
    if (writer.waiting > 0) throw new Error(`the store did not take ${writer.waiting} of ${rows.length} journaled records`);
  }

  /** As the record is emitted: attributed, made a row and journaled now; the rest waits for the check phase. */
  private take(record: RoutingRecord): void {
    // A keyed call carries its key as a label (route-access.service.ts, keyed-context.ts, deferred-tries.ts).
    const keyLabel = record.labels?.[KEY_LABEL];
    const principal = keyLabel !== undefined ? this.keys.principalOf(keyLabel) : undefined;
    let row: RecordRow | undefined;
    try {
      if (this.config.records !== false) {
        row = toRecordRow(record, principal?.keyId ?? undefined, this.router.policy);
        this.journal.append(row);
      }
    } catch (err) {
      this.logger.error(`could not make a row of routing record ${record.requestId}: ${err instanceof Error ? err.message : String(err)}`, { requestId: record.requestId });
    }
    if (this.queued.push({ record, principal, row }) === 1) setImmediate(this.drain);
  }

  private fanOut({ record, principal, row }: Journaled): void {
    const keyId = principal?.keyId ?? undefined;
    try {
      if (row) this.writer.push(row);
      if (this.config.metrics !== false) this.metrics.observe(record);
      this.requestLog?.write(record, keyId);
    } catch (err) {
      this.logger.error(`could not process routing record ${record.requestId}: ${err instanceof Error ? err.message : String(err)}`, { requestId: record.requestId });
    }
  }
}
