import { DelayedError, Queue, UnrecoverableError, Worker, type Job, type RedisOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobHandler, JobOutcome, JobQueue, JobState, JobWorker, JobWorkerOptions, NewJob } from '../queue/job-queue.js';
import { outcomeOfThrow } from '../queue/job-retry.js';
import { checkWorkerOptions } from '../queue/worker-options.js';

export interface BullMqJobQueueOptions {
  /**
   * The app's Redis connection: queues send their commands on it; workers
   * open their own with its settings. Closing the queue never closes it.
   */
  readonly connection: Redis;
  /** Key prefix; a `{hash-tag}` keeps one queue's keys in one Redis Cluster slot. Default `{llm-router}`. */
  readonly prefix?: string;
  /**
   * How long a worker's lock on a running job lasts without renewal (default
   * 10 s); a live worker renews it at half that. A killed process's jobs are
   * moved back to waiting by another worker's stalled check once it lapses.
   */
  readonly lockDurationMs?: number;
  /** How often a worker looks for jobs whose lock lapsed (default 5 s). */
  readonly stalledIntervalMs?: number;
  /** Times a job may be found stalled before BullMQ fails it (a job that keeps killing its worker). Default 10. */
  readonly maxStalledCount?: number;
  /** How long finished jobs are kept, so `state` answers and their ids stay taken (default 7 days). */
  readonly keepFinishedMs?: number;
}

/** What a BullMQ job carries: the caller's id (BullMQ's own ids may not hold ':' or be integers) and data. */
interface Envelope {
  readonly id: string;
  readonly data: unknown;
}

const STATES: Record<string, JobState> = {
  completed: 'done',
  failed: 'failed',
  delayed: 'delayed',
  active: 'active',
  waiting: 'waiting',
  prioritized: 'waiting',
  'waiting-children': 'waiting',
};

/** BullMQ forbids ':' in queue names and job ids, and integer job ids: this escape is reversible and never numeric. */
const escapeName = (name: string): string => name.replace(/%/g, '%25').replace(/:/g, '%3A');
const jobIdOf = (id: string): string => `j${escapeName(id)}`;

/**
 * The work queue on BullMQ, for deployments with Redis: every instance works
 * the same jobs, and a dead instance's running jobs run again elsewhere once
 * their lock lapses. A job's id is its BullMQ jobId (adding it twice adds it
 * once); `later` moves the job to delayed with the worker's token, `failed`
 * is an UnrecoverableError (never retried by BullMQ).
 */
export class BullMqJobQueue implements JobQueue {
  private readonly queues = new Map<string, Queue>();
  private readonly workers = new Set<JobWorker>();
  private readonly prefix: string;
  private readonly keepFinishedS: number;

  constructor(private readonly options: BullMqJobQueueOptions) {
    this.prefix = options.prefix ?? '{llm-router}';
    this.keepFinishedS = Math.ceil((options.keepFinishedMs ?? 7 * 86_400_000) / 1000);
  }

  async add<T>(queue: string, jobs: readonly NewJob<T>[]): Promise<void> {
    if (jobs.length === 0) return;
    const now = Date.now();
    const keep = { age: this.keepFinishedS };
    await this.queue(queue).addBulk(
      jobs.map((job) => ({
        name: 'job',
        data: { id: job.id, data: job.data } satisfies Envelope,
        opts: { jobId: jobIdOf(job.id), delay: Math.max(0, (job.runAt ?? now) - now), attempts: 1, removeOnComplete: keep, removeOnFail: keep },
      })),
    );
  }

  work<T>(queue: string, handler: JobHandler<T>, options: JobWorkerOptions): JobWorker {
    checkWorkerOptions(options);
    // The worker's own connections (BullMQ makes and closes them), on the app's client's settings
    // less its per-command timeout: a worker blocks on Redis while it waits for jobs.
    const connection = { ...this.options.connection.options, commandTimeout: undefined, maxRetriesPerRequest: null, enableOfflineQueue: true } as RedisOptions;
    const running = new Map<AbortController, Promise<unknown>>();
    const worker = new Worker<Envelope>(
      escapeName(queue),
      async (job: Job<Envelope>, token?: string) => {
        const controller = new AbortController();
        try {
          const attempt = Math.max(1, job.attemptsStarted);
          const run = Promise.resolve()
            .then(() => handler({ queue, id: job.data.id, data: job.data.data as T, attempt }, controller.signal))
            .catch((error: unknown) => outcomeOfThrow(error, attempt, Date.now()));
          running.set(controller, run);
          const outcome: JobOutcome = await run;
          if (outcome.kind === 'later') {
            await job.moveToDelayed(outcome.runAt, token);
            throw new DelayedError(outcome.reason);
          }
          if (outcome.kind === 'failed') throw new UnrecoverableError(outcome.reason);
        } finally {
          running.delete(controller);
        }
      },
      {
        connection,
        prefix: this.prefix,
        concurrency: options.concurrency,
        lockDuration: this.options.lockDurationMs ?? 10_000,
        stalledInterval: this.options.stalledIntervalMs ?? 5_000,
        maxStalledCount: this.options.maxStalledCount ?? 10,
        // Woken by new jobs at once; this only bounds how long a blocking poll waits.
        drainDelay: 1,
      },
    );
    // Connection trouble surfaces here as events; BullMQ reconnects by itself.
    worker.on('error', () => undefined);
    let closing: Promise<void> | undefined;
    const handle: JobWorker = {
      close: () =>
        (closing ??= (async () => {
          this.workers.delete(handle);
          for (const controller of running.keys()) controller.abort(new Error('worker closing'));
          await Promise.all(running.values());
          // With Redis away a graceful close never ends (BullMQ waits for its connections); the jobs
          // it held then run again elsewhere once their lock lapses.
          await worker.close(this.options.connection.status !== 'ready');
        })()),
    };
    this.workers.add(handle);
    return handle;
  }

  async promote(queue: string, id: string): Promise<boolean> {
    const job = await this.queue(queue).getJob(jobIdOf(id));
    if (!job || (await job.getState()) !== 'delayed') return false;
    try {
      await job.promote();
      return true;
    } catch {
      return false; // no longer delayed: it became due or was taken meanwhile
    }
  }

  async remove(queue: string, id: string): Promise<boolean> {
    const q = this.queue(queue);
    // BullMQ answers 1 for an absent id too; 0 means locked (running).
    if (!(await q.getJob(jobIdOf(id)))) return false;
    return (await q.remove(jobIdOf(id))) === 1;
  }

  async state(queue: string, id: string): Promise<JobState | undefined> {
    const job = await this.queue(queue).getJob(jobIdOf(id));
    return job ? STATES[await job.getState()] : undefined;
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(escapeName(name), { connection: this.options.connection, prefix: this.prefix });
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }
}
