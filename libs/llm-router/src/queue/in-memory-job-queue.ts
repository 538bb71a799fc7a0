import type { JobHandler, JobOutcome, JobQueue, JobState, JobWorker, JobWorkerOptions, NewJob, QueuedJob } from './job-queue.js';
import { outcomeOfThrow } from './job-retry.js';
import { checkWorkerOptions } from './worker-options.js';

export interface InMemoryJobQueueOptions {
  /**
   * How long a run may take before its lease lapses (default 10 minutes): the
   * job is then due again (its next run counts one more attempt), the stuck
   * run's signal aborts, and whatever that run answers later is ignored. In one
   * process a hung handler is the only way a worker "dies" with its job.
   */
  readonly leaseMs?: number;
}

interface Entry {
  readonly id: string;
  readonly data: unknown;
  state: 'pending' | 'active' | 'done' | 'failed';
  runAt: number;
  attempt: number;
  /** Bumped per run: an outcome whose lease lapsed carries a stale value. */
  lease: number;
}

interface Lane {
  readonly jobs: Map<string, Entry>;
  readonly workers: Set<MemoryWorker>;
  timer?: NodeJS.Timeout;
  timerAt?: number;
}

// setTimeout's largest delay; a later job is looked at again then.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The in-process work queue: the library's default, for one process and for
 * tests. Jobs live in memory (they do not survive a restart: use BullMQ or the
 * gateway's SQL store for that); delayed jobs wait on one timer per queue; each
 * worker runs at most its concurrency; several workers on one queue share its
 * jobs and never run one job twice at once.
 */
export class InMemoryJobQueue implements JobQueue {
  private readonly lanes = new Map<string, Lane>();
  private readonly leaseMs: number;
  private closed = false;

  constructor(options: InMemoryJobQueueOptions = {}) {
    this.leaseMs = options.leaseMs ?? 600_000;
  }

  async add<T>(queue: string, jobs: readonly NewJob<T>[]): Promise<void> {
    const lane = this.lane(queue);
    for (const job of jobs) {
      if (lane.jobs.has(job.id)) continue;
      lane.jobs.set(job.id, { id: job.id, data: job.data, state: 'pending', runAt: job.runAt ?? Date.now(), attempt: 0, lease: 0 });
    }
    this.dispatch(queue);
  }

  work<T>(queue: string, handler: JobHandler<T>, options: JobWorkerOptions): JobWorker {
    if (this.closed) throw new Error('InMemoryJobQueue is closed');
    checkWorkerOptions(options);
    const lane = this.lane(queue);
    const worker = new MemoryWorker(handler as JobHandler<unknown>, options.concurrency, () => {
      lane.workers.delete(worker);
      if (lane.workers.size === 0) this.clearTimer(lane);
    });
    lane.workers.add(worker);
    this.dispatch(queue);
    return worker;
  }

  async promote(queue: string, id: string): Promise<boolean> {
    const entry = this.lanes.get(queue)?.jobs.get(id);
    if (!entry || entry.state !== 'pending' || entry.runAt <= Date.now()) return false;
    entry.runAt = Date.now();
    this.dispatch(queue);
    return true;
  }

  async remove(queue: string, id: string): Promise<boolean> {
    const jobs = this.lanes.get(queue)?.jobs;
    const entry = jobs?.get(id);
    if (!entry || entry.state === 'active') return false;
    jobs!.delete(id);
    return true;
  }

  state(queue: string, id: string): JobState | undefined {
    const entry = this.lanes.get(queue)?.jobs.get(id);
    if (!entry) return undefined;
    if (entry.state === 'pending') return entry.runAt > Date.now() ? 'delayed' : 'waiting';
    return entry.state;
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.lanes.values()].flatMap((lane) => [...lane.workers]);
    await Promise.all(workers.map((w) => w.close()));
    for (const lane of this.lanes.values()) this.clearTimer(lane);
  }

  private lane(queue: string): Lane {
    let lane = this.lanes.get(queue);
    if (!lane) this.lanes.set(queue, (lane = { jobs: new Map(), workers: new Set() }));
    return lane;
  }

  /** Hands due jobs to workers with a free slot, then sets the timer for the next delayed one. */
  private dispatch(queue: string): void {
    const lane = this.lanes.get(queue);
    if (!lane || lane.workers.size === 0) return;
    const now = Date.now();
    const due = [...lane.jobs.values()].filter((e) => e.state === 'pending' && e.runAt <= now).sort((a, b) => a.runAt - b.runAt);
    for (const worker of lane.workers) {
      while (worker.hasSlot() && due.length > 0) this.run(queue, lane, worker, due.shift()!);
    }
    this.armTimer(queue, lane, now);
  }

  private run(queue: string, lane: Lane, worker: MemoryWorker, entry: Entry): void {
    entry.state = 'active';
    entry.attempt += 1;
    const lease = ++entry.lease;
    const job: QueuedJob<unknown> = { queue, id: entry.id, data: entry.data, attempt: entry.attempt };
    const controller = new AbortController();
    // The lease: a run still going after leaseMs gives its job back.
    const lapse = setTimeout(() => {
      if (entry.lease !== lease || entry.state !== 'active') return;
      entry.lease += 1;
      entry.state = 'pending';
      entry.runAt = Date.now();
      controller.abort(new Error('lease lapsed'));
      run.release();
      this.dispatch(queue);
    }, this.leaseMs);
    lapse.unref();
    const run = worker.start(job, controller);
    void run.outcome.then((outcome) => {
      clearTimeout(lapse);
      if (entry.lease !== lease || lane.jobs.get(entry.id) !== entry) return;
      this.settle(entry, outcome);
      this.dispatch(queue);
    });
  }

  private settle(entry: Entry, outcome: JobOutcome): void {
    if (outcome.kind === 'later') {
      entry.state = 'pending';
      entry.runAt = outcome.runAt;
    } else {
      entry.state = outcome.kind;
    }
  }

  private armTimer(queue: string, lane: Lane, now: number): void {
    let next = Infinity;
    for (const e of lane.jobs.values()) if (e.state === 'pending' && e.runAt > now && e.runAt < next) next = e.runAt;
    if (next === Infinity) return this.clearTimer(lane);
    if (lane.timer && lane.timerAt === next) return;
    this.clearTimer(lane);
    lane.timerAt = next;
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      lane.timerAt = undefined;
      this.dispatch(queue);
    }, Math.min(MAX_TIMER_MS, next - now));
    lane.timer.unref();
  }

  private clearTimer(lane: Lane): void {
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = undefined;
    lane.timerAt = undefined;
  }
}

/** One worker's running jobs: its concurrency slots and their abort signals. */
class MemoryWorker implements JobWorker {
  private readonly running = new Map<Promise<void>, AbortController>();
  private closing?: Promise<void>;

  constructor(
    private readonly handler: JobHandler<unknown>,
    private readonly concurrency: number,
    private readonly detach: () => void,
  ) {}

  hasSlot(): boolean {
    return !this.closing && this.running.size < this.concurrency;
  }

  /**
   * Runs the handler in a slot. `outcome` never rejects (a throw becomes a
   * retry); `release` frees the slot of a run whose lease lapsed (it may never settle).
   */
  start(job: QueuedJob<unknown>, controller: AbortController): { outcome: Promise<JobOutcome>; release: () => void } {
    const outcome = Promise.resolve()
      .then(() => this.handler(job, controller.signal))
      .catch((error: unknown) => outcomeOfThrow(error, job.attempt, Date.now()));
    const slot: Promise<void> = outcome.then(() => {
      this.running.delete(slot);
    });
    this.running.set(slot, controller);
    return { outcome, release: () => this.running.delete(slot) };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.detach();
      for (const controller of this.running.values()) controller.abort(new Error('worker closing'));
      await Promise.all(this.running.keys());
    })();
    return this.closing;
  }
}
