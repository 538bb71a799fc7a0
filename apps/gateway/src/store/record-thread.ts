import { once } from 'node:events';
import { Logger } from '@nestjs/common';
import { Worker } from 'node:worker_threads';
import type { RecordRow } from './gateway-store.js';
import { recordLine } from './record-line.js';
import type { RecordThreadReply, RecordThreadRequest } from './record-thread-port.js';

const RECORD_THREAD_YOUNG_GENERATION_MB = 6;

/** The thread stopped (crashed or exited): the caller writes on its own connection instead. */
export class RecordThreadGone extends Error {}

/**
 * Routing-record inserts on a worker thread with its own connection to the
 * store (SQLite: sqlite-records.worker.ts; PostgreSQL:
 * postgres-records.worker.ts), posted as the records' lines: the main thread
 * neither builds statements nor waits on the driver.
 * `insert` resolves once the batch is committed, so a flush still gives
 * read-your-writes. The thread keeps the process alive only while a request
 * is in flight.
 */
export class RecordThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private nextId = 1;
  private gone?: RecordThreadGone;
  private fellBack = false;

  /** `store` names the store in errors ("SQLite", "PostgreSQL"). */
  constructor(
    script: URL,
    workerData: unknown,
    private readonly store: string,
  ) {
    // The thread only turns posted lines into inserts: a small young generation is enough, and V8's default
    // (up to 3 × 16 MB under load) would be resident memory held by a thread that needs little.
    this.worker = new Worker(script, { workerData, resourceLimits: { maxYoungGenerationSizeMb: RECORD_THREAD_YOUNG_GENERATION_MB } });
    this.worker.unref();
    this.worker.on('message', (reply: RecordThreadReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) this.worker.unref();
      if (reply.error === undefined) waiter.resolve();
      else waiter.reject(new Error(reply.error));
    });
    this.worker.on('error', (err) => this.stop(new RecordThreadGone(`the ${store} record thread failed: ${err.message}`)));
    this.worker.on('exit', (code) => this.stop(new RecordThreadGone(`the ${store} record thread exited (code ${code})`)));
  }

  insert(rows: readonly RecordRow[]): Promise<void> {
    // Each row's line, made once (by the journal already, when there is one): strings are copied, not cloned field by field.
    return this.ask({ id: this.nextId++, lines: rows.map(recordLine) });
  }

  /** On the thread while it runs; once it is gone, with `here` (the store's own connection), said once in the log. */
  async insertOr(rows: readonly RecordRow[], here: () => void | Promise<void>): Promise<void> {
    if (!this.gone) {
      try {
        return await this.insert(rows);
      } catch (err) {
        if (!(err instanceof RecordThreadGone)) throw err;
      }
    }
    if (!this.fellBack) {
      this.fellBack = true;
      new Logger(`${this.store} store`).warn(`${this.gone!.message}: routing records are written on the main thread from now on`);
    }
    await here();
  }

  /** Resolves once the thread's own connection answers (a store that answers the main thread may still refuse the thread's); a thread that is gone needs none. */
  async ping(): Promise<void> {
    if (this.gone) return;
    try {
      await this.ask({ id: this.nextId++, ping: true });
    } catch (err) {
      if (!(err instanceof RecordThreadGone)) throw err;
    }
  }

  /** After the requests in flight are answered: closes the thread's connection and ends it. */
  async close(): Promise<void> {
    if (this.gone) return;
    const exited = once(this.worker, 'exit');
    this.worker.ref();
    this.worker.postMessage({ close: true } satisfies RecordThreadRequest);
    await exited;
  }

  private ask(request: RecordThreadRequest & { id: number }): Promise<void> {
    if (this.gone) return Promise.reject(this.gone);
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      if (this.waiting.size === 1) this.worker.ref();
      this.worker.postMessage(request);
    });
  }

  private stop(reason: RecordThreadGone): void {
    this.gone ??= reason;
    for (const waiter of this.waiting.values()) waiter.reject(this.gone);
    this.waiting.clear();
  }
}
