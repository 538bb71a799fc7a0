import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { RecordRow } from './gateway-store.js';
import { recordLine } from './record-line.js';
import type { RecordThreadReply, RecordThreadRequest } from './sqlite-records.worker.js';

const RECORD_THREAD_YOUNG_GENERATION_MB = 6;

/** The thread stopped (crashed or exited): the caller writes on its own connection instead. */
export class RecordThreadGone extends Error {}

/**
 * Routing-record inserts on a worker thread with its own connection to the
 * same SQLite file (WAL: reports read on the main connection meanwhile),
 * posted as the records' lines.
 * `insert` resolves once the batch is committed, so a flush still gives
 * read-your-writes. The thread keeps the process alive only while a batch is
 * in flight.
 */
export class SqliteRecordThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private gone?: RecordThreadGone;

  constructor(path: string) {
    // The thread only turns posted lines into inserts: a small young generation is enough, and V8's default
    // (up to 3 × 16 MB under load) would be resident memory held by a thread that needs little.
    this.worker = new Worker(new URL('./sqlite-records.worker.js', import.meta.url), { workerData: { path }, resourceLimits: { maxYoungGenerationSizeMb: RECORD_THREAD_YOUNG_GENERATION_MB } });
    this.worker.unref();
    this.worker.on('message', (reply: RecordThreadReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) this.worker.unref();
      if (reply.error === undefined) waiter.resolve();
      else waiter.reject(new Error(reply.error));
    });
    this.worker.on('error', (err) => this.stop(new RecordThreadGone(`the SQLite record thread failed: ${err.message}`)));
    this.worker.on('exit', (code) => this.stop(new RecordThreadGone(`the SQLite record thread exited (code ${code})`)));
  }

  insert(rows: readonly RecordRow[]): Promise<void> {
    if (this.gone) return Promise.reject(this.gone);
    return new Promise<void>((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) this.worker.ref();
      // Each row's line, made once (by the journal already, when there is one): strings are copied, not cloned field by field.
      this.worker.postMessage({ id, lines: rows.map(recordLine) } satisfies RecordThreadRequest);
    });
  }

  /** After the batches in flight are answered: closes the thread's connection and ends it. */
  async close(): Promise<void> {
    if (this.gone) return;
    const exited = once(this.worker, 'exit');
    this.worker.ref();
    this.worker.postMessage({ close: true } satisfies RecordThreadRequest);
    await exited;
  }

  private stop(reason: RecordThreadGone): void {
    this.gone ??= reason;
    for (const waiter of this.waiting.values()) waiter.reject(this.gone);
    this.waiting.clear();
  }
}
