import type { MaybePromise } from '../shared/maybe-promise.js';

/**
 * The work queue port: deferred calls and batch items are jobs on it. The
 * in-process default suits one process and tests; a deployment with Redis
 * runs it on BullMQ, and the gateway's embedded default keeps jobs in its own
 * SQL store, so jobs survive a crash and a dead worker's jobs run elsewhere.
 * Every implementation passes one contract suite.
 */
export const JOB_QUEUE = Symbol('JOB_QUEUE');

/** A job to add. `id` is unique within its queue: adding an id twice adds it once. */
export interface NewJob<T> {
  readonly id: string;
  readonly data: T;
  /** Earliest run time (epoch ms); now when absent. */
  readonly runAt?: number;
}

export interface QueuedJob<T> {
  readonly queue: string;
  readonly id: string;
  readonly data: T;
  /** 1 on the first run; a run a crashed worker began counts too. */
  readonly attempt: number;
}

/** What a handler says about the job it ran. */
export type JobOutcome =
  /** Finished; never run again. */
  | { readonly kind: 'done' }
  /** Run again no earlier than `runAt` (a paused batch, a retry after backoff). */
  | { readonly kind: 'later'; readonly runAt: number; readonly reason: string }
  /** Ended for good (a deterministic failure, a passed deadline). */
  | { readonly kind: 'failed'; readonly reason: string };

/** `signal` aborts when the worker closes (shutdown): the handler should stop and answer `later`. */
export type JobHandler<T> = (job: QueuedJob<T>, signal: AbortSignal) => Promise<JobOutcome>;

export interface JobWorkerOptions {
  /** Jobs of this queue run at once in this process. */
  readonly concurrency: number;
}

export interface JobWorker {
  /** Stops taking jobs and waits for the running ones (their signal aborted). */
  close(): Promise<void>;
}

export type JobState = 'waiting' | 'delayed' | 'active' | 'done' | 'failed';

export interface JobQueue {
  /** Adds jobs; ids already in the queue (in any state) are left as they are. */
  add<T>(queue: string, jobs: readonly NewJob<T>[]): Promise<void>;
  /**
   * Works `queue` in this process. Delivery is at least once: a job whose
   * worker died mid-run runs again (on any instance) once its lease lapses.
   */
  work<T>(queue: string, handler: JobHandler<T>, options: JobWorkerOptions): JobWorker;
  /** Makes a delayed job due now (a paused batch whose budget was raised). False when it is not delayed. */
  promote(queue: string, id: string): Promise<boolean>;
  /** Removes a job that is not running; false when it is absent or running. */
  remove(queue: string, id: string): Promise<boolean>;
  state(queue: string, id: string): MaybePromise<JobState | undefined>;
  /** Closes workers this queue started and connections it created (never a client it was given). */
  close(): Promise<void>;
}
