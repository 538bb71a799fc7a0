import type { GatewayStore, RecordRow } from '../store/gateway-store.js';
import { forgetLine } from '../store/record-line.js';

export interface RecordWriterOptions {
  /** Write waiting rows at least this often. */
  flushMs: number;
  /** Write at once when this many rows wait. */
  batchSize: number;
  /** Rows kept while the store is failing; the oldest go first beyond it. */
  maxPending?: number;
  onError?: (err: unknown, rows: number) => void;
  /** A row the store refused while it answered otherwise: it went to the dead-letter table. */
  onDeadLetter?: (row: RecordRow, err: unknown) => void;
  /** Rows now in the store (or its dead-letter table): the journal may forget them. */
  onWritten?: (rows: readonly RecordRow[]) => void;
}

/**
 * Batches routing records off the request path: `push` only appends to an
 * array; a timer (or a full batch) writes them in one transaction. A failed
 * write keeps the rows for the next try, up to `maxPending`, but only while
 * the store itself is failing: when it still answers, the batch holds a row it
 * refuses, so the batch is split until that row is alone, the rest written and
 * the refused row dead-lettered. A poisoned row never blocks the ones behind
 * it. `close()` writes everything still waiting: a graceful shutdown loses
 * nothing.
 */
export class RecordWriter {
  private pending: RecordRow[] = [];
  private timer?: NodeJS.Timeout;
  private writing?: Promise<void>;
  private closed = false;
  /** Rows written since start. */
  written = 0;
  /** Rows dropped because the store failed for too long. */
  dropped = 0;
  /** Rows the store refused, kept in its dead-letter table. */
  deadLettered = 0;
  private readonly maxPending: number;

  constructor(
    private readonly store: GatewayStore,
    private readonly options: RecordWriterOptions,
  ) {
    this.maxPending = options.maxPending ?? 100_000;
  }

  get waiting(): number {
    return this.pending.length;
  }

  push(row: RecordRow): void {
    this.pending.push(row);
    if (this.pending.length > this.maxPending) this.dropOldest();
    if (this.pending.length >= this.options.batchSize) {
      if (!this.urgent) this.schedule(0);
    } else if (this.timer === undefined && !this.closed) {
      this.schedule(this.options.flushMs);
    }
  }

  /** Write everything waiting now (and wait for a write in progress). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.urgent = false;
    }
    // Rows may arrive while a batch is being written: loop until none wait.
    for (;;) {
      if (this.writing) {
        await this.writing;
        continue;
      }
      if (this.pending.length === 0) return;
      await this.writeBatch();
      // A failing store: one try per flush; the rows stay queued.
      if (this.lastWriteFailed) return;
    }
  }

  /** Stop the timer and write what is left. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private lastWriteFailed = false;

  /** A zero-delay write is already scheduled. */
  private urgent = false;

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.urgent = ms === 0;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.urgent = false;
      void this.writeBatch().then(() => {
        if (this.pending.length > 0 && !this.closed && this.timer === undefined) this.schedule(this.lastWriteFailed ? Math.max(this.options.flushMs, 1_000) : 0);
      });
    }, ms);
    this.timer.unref();
  }

  private writeBatch(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.pending.length === 0) return Promise.resolve();
    const rows = this.pending.splice(0, Math.max(this.options.batchSize, 1));
    this.writing = this.write(rows).finally(() => {
      this.writing = undefined;
    });
    return this.writing;
  }

  private async write(rows: RecordRow[]): Promise<void> {
    try {
      await this.store.insertRecords(rows);
      this.written += rows.length;
      this.options.onWritten?.(rows);
      this.lastWriteFailed = false;
      return;
    } catch (err) {
      const unplaced = (await this.storeAnswers()) ? await this.isolate(rows, err) : rows;
      this.lastWriteFailed = unplaced.length > 0;
      if (unplaced.length === 0) return;
      this.requeue(unplaced);
      this.options.onError?.(err, unplaced.length);
    }
  }

  private async storeAnswers(): Promise<boolean> {
    try {
      await this.store.ping();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Halves a refused batch until each refused row is alone: the halves the
   * store takes are written, a lone refused row is dead-lettered. Returns the
   * rows it could place nowhere (the store stopped answering meanwhile).
   */
  private async isolate(rows: RecordRow[], err: unknown): Promise<RecordRow[]> {
    if (rows.length === 1) {
      try {
        await this.store.insertDeadRecord(rows[0]!, err instanceof Error ? err.message : String(err), Date.now());
      } catch {
        return rows;
      }
      this.deadLettered++;
      this.options.onWritten?.(rows);
      this.options.onDeadLetter?.(rows[0]!, err);
      return [];
    }
    const unplaced: RecordRow[] = [];
    const middle = rows.length >>> 1;
    for (const half of [rows.slice(0, middle), rows.slice(middle)]) {
      try {
        await this.store.insertRecords(half);
        this.written += half.length;
        this.options.onWritten?.(half);
      } catch (halfErr) {
        unplaced.push(...(await this.isolate(half, halfErr)));
      }
    }
    return unplaced;
  }

  /** Back in front, in order, for the next try (without their kept line: the store may fail for long); bounded by maxPending. */
  private requeue(rows: RecordRow[]): void {
    for (const row of rows) forgetLine(row);
    this.pending.unshift(...rows);
    if (this.pending.length > this.maxPending) this.dropOldest();
  }

  private dropOldest(): void {
    const excess = this.pending.length - this.maxPending;
    this.pending.splice(0, excess);
    this.dropped += excess;
  }
}
