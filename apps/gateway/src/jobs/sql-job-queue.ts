import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { checkWorkerOptions, outcomeOfThrow, type JobHandler, type JobOutcome, type JobQueue, type JobState, type JobWorker, type JobWorkerOptions, type NewJob } from '@llm-router/nestjs';
import type { ClaimedJob, JobRows } from '../store/gateway-store.js';

export interface SqlJobQueueOptions {
  /** How long a claim lasts without renewal (default 30 s); a live worker renews it every third of that. */
  readonly leaseMs?: number;
  /** How often an idle worker looks for due jobs (default 500 ms); a job added in this process wakes it at once. */
  readonly pollMs?: number;
  /** How long done and failed jobs are kept, so their ids stay taken (default 7 days). */
  readonly keepFinishedMs?: number;
}

/** Finished jobs are purged at most this often by one queue. */
const PURGE_EVERY_MS = 3_600_000;

/**
 * The gateway's embedded durable queue, for deployments without Redis: jobs
 * are rows of its own SQL store (SQLite or PostgreSQL), so they survive a
 * restart, and every instance on one PostgreSQL shares them. A worker claims
 * due jobs with a lease it renews while the handler runs; a worker that died
 * stops renewing and its jobs are claimed again once the lease lapses.
 */
export class SqlJobQueue implements JobQueue {
  private readonly workers = new Set<SqlWorker>();
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly keepFinishedMs: number;
  private lastPurge = 0;

  constructor(
    private readonly rows: JobRows,
    options: SqlJobQueueOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 500;
    this.keepFinishedMs = options.keepFinishedMs ?? 7 * 86_400_000;
  }

  async add<T>(queue: string, jobs: readonly NewJob<T>[]): Promise<void> {
    if (jobs.length === 0) return;
    await this.rows.insert(queue, jobs, Date.now());
    this.wake(queue);
  }

  work<T>(queue: string, handler: JobHandler<T>, options: JobWorkerOptions): JobWorker {
    checkWorkerOptions(options);
    const worker = new SqlWorker(queue, handler as JobHandler<unknown>, options.concurrency, this.rows, this.leaseMs, this.pollMs, () => {
      this.workers.delete(worker);
    });
    this.workers.add(worker);
    worker.start();
    this.purgeNowAndThen();
    return worker;
  }

  async promote(queue: string, id: string): Promise<boolean> {
    const promoted = await this.rows.promote(queue, id, Date.now());
    if (promoted) this.wake(queue);
    return promoted;
  }

  remove(queue: string, id: string): Promise<boolean> {
    return this.rows.remove(queue, id);
  }

  state(queue: string, id: string): Promise<JobState | undefined> {
    return this.rows.state(queue, id, Date.now());
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.close()));
  }

  private wake(queue: string): void {
    for (const worker of this.workers) if (worker.queue === queue) worker.wake();
  }

  private purgeNowAndThen(): void {
    const now = Date.now();
    if (now - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = now;
    this.rows.purgeFinished(now - this.keepFinishedMs).catch(() => undefined);
  }
}

/** One worker's loop: claim as many due jobs as it has free slots, run them, sleep until woken or the poll interval. */
class SqlWorker implements JobWorker {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private closing = false;
  private loop?: Promise<void>;
  private nudge?: () => void;
  private closed?: Promise<void>;

  constructor(
    readonly queue: string,
    private readonly handler: JobHandler<unknown>,
    private readonly concurrency: number,
    private readonly rows: JobRows,
    private readonly leaseMs: number,
    private readonly pollMs: number,
    private readonly detach: () => void,
  ) {}

  start(): void {
    this.loop = this.claimLoop();
  }

  wake(): void {
    this.nudge?.();
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      this.detach();
      this.wake();
      for (const { controller } of this.running.values()) controller.abort(new Error('worker closing'));
      await this.loop;
      await Promise.all([...this.running.values()].map((r) => r.done));
    })();
    return this.closed;
  }

  private async claimLoop(): Promise<void> {
    while (!this.closing) {
      const free = this.concurrency - this.running.size;
      let claimed: ClaimedJob[] = [];
      if (free > 0) {
        const token = randomUUID();
        try {
          claimed = await this.rows.claim(this.queue, free, token, Date.now() + this.leaseMs, Date.now());
        } catch (err) {
          // The store is unreachable for now: the next poll tries again.
          new Logger('SqlJobQueue').warn(`claiming jobs of "${this.queue}" failed: ${err instanceof Error ? err.message : String(err)}`);
        }
        if (this.closing) await Promise.all(claimed.map((job) => this.giveBack(job, token)));
        else for (const job of claimed) this.run(job, token);
      }
      // A full claim may leave more due jobs: look again at once.
      if (free > 0 && claimed.length === free) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.pollMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.nudge = done;
      });
      this.nudge = undefined;
    }
  }

  private run(job: ClaimedJob, token: string): void {
    const controller = new AbortController();
    let lost = false;
    const renewal = setInterval(() => {
      this.rows.renew(this.queue, job.id, token, Date.now() + this.leaseMs).then(
        (held) => {
          if (held || lost) return;
          // Lapsed and claimed elsewhere: this run's outcome no longer counts.
          lost = true;
          controller.abort(new Error('lease lost'));
        },
        () => undefined, // the store is away: the next renewal tries again, or the lease lapses
      );
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
    const done = (async () => {
      const outcome: JobOutcome = await Promise.resolve()
        .then(() => this.handler({ queue: this.queue, id: job.id, data: job.data, attempt: job.attempt }, controller.signal))
        .catch((error: unknown) => outcomeOfThrow(error, job.attempt, Date.now()));
      clearInterval(renewal);
      if (!lost) await this.rows.settle(this.queue, job.id, token, outcome, Date.now()).catch(() => undefined); // unsettled, it runs again once its lease lapses
    })().finally(() => {
      this.running.delete(job.id);
      this.wake();
    });
    this.running.set(job.id, { controller, done });
  }

  /** A job claimed while closing is handed back as due now. */
  private async giveBack(job: ClaimedJob, token: string): Promise<void> {
    await this.rows.settle(this.queue, job.id, token, { kind: 'later', runAt: Date.now(), reason: 'worker closing' }, Date.now()).catch(() => undefined);
  }
}
