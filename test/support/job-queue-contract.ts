import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { JobOutcome, JobQueue, QueuedJob } from '@llm-router/nestjs';
import { waitFor } from './sim.js';

/** How the contract reaches one implementation. */
export interface JobQueueFixture {
  /** A queue as one instance of the app would hold it; queues opened by one fixture share their jobs. */
  open(): Promise<JobQueue>;
  /**
   * Adds job `id` to `queue` and starts it in a worker that then dies without
   * answering (a process killed, or in one process a run that hangs); resolves
   * once the run began and its worker is gone.
   */
  dieMidRun(queue: string, id: string): Promise<void>;
  /** Removes what the fixture created (queues are closed by the suite). */
  cleanup(): Promise<void>;
}

const done: JobOutcome = { kind: 'done' };
const WAIT = 10_000;

/** One contract, every implementation: the in-process default, the SQL stores, BullMQ. */
export function jobQueueContract(name: string, fixture: () => Promise<JobQueueFixture | { skip: string }>): void {
  describe(`JobQueue contract: ${name}`, () => {
    let fx: JobQueueFixture | undefined;
    let skip: string | undefined;
    const opened: JobQueue[] = [];
    const open = async (): Promise<JobQueue> => {
      const q = await fx!.open();
      opened.push(q);
      return q;
    };
    const fresh = () => `q${randomBytes(4).toString('hex')}`;

    before(async () => {
      const made = await fixture();
      if ('skip' in made) skip = made.skip;
      else fx = made;
    });
    after(async () => {
      for (const q of opened.reverse()) await q.close();
      await fx?.cleanup();
    });
    const test = (title: string, body: () => Promise<void>) =>
      it(title, async (t) => {
        if (skip) return t.skip(skip);
        await body();
      });

    test('adding an id twice adds it once: the first data is kept and the job runs once', async () => {
      const q = await open();
      const queue = fresh();
      await q.add(queue, [{ id: 'a', data: { n: 1 } }]);
      await q.add(queue, [
        { id: 'a', data: { n: 2 } },
        { id: 'b', data: { n: 3 } },
      ]);
      const runs: Array<QueuedJob<{ n: number }>> = [];
      q.work<{ n: number }>(queue, async (job) => (runs.push(job), done), { concurrency: 2 });
      await waitFor(async () => (await q.state(queue, 'a')) === 'done' && (await q.state(queue, 'b')) === 'done', 'both jobs done', WAIT);
      await q.add(queue, [{ id: 'a', data: { n: 4 } }]);
      assert.equal(await q.state(queue, 'a'), 'done', 'a done job is left as it is');
      assert.deepEqual(
        runs.map((r) => [r.id, r.data.n, r.attempt]).sort(),
        [
          ['a', 1, 1],
          ['b', 3, 1],
        ],
      );
    });

    test('a delayed job is delayed until its run time, then runs', async () => {
      const q = await open();
      const queue = fresh();
      const runAt = Date.now() + 600;
      await q.add(queue, [{ id: 'd', data: null, runAt }]);
      assert.equal(await q.state(queue, 'd'), 'delayed');
      let ranAt = 0;
      q.work(queue, async () => ((ranAt = Date.now()), done), { concurrency: 1 });
      await waitFor(async () => (await q.state(queue, 'd')) === 'done', 'the delayed job done', WAIT);
      assert.ok(ranAt >= runAt, `ran at ${ranAt}, not before its run time ${runAt}`);
    });

    test('later runs the job again after its run time with the next attempt; failed and done end it', async () => {
      const q = await open();
      const queue = fresh();
      await q.add(queue, [
        { id: 'retry', data: null },
        { id: 'fail', data: null },
      ]);
      const attempts: string[] = [];
      let laterAt = 0;
      q.work(
        queue,
        async (job): Promise<JobOutcome> => {
          attempts.push(`${job.id}#${job.attempt}`);
          if (job.id === 'fail') return { kind: 'failed', reason: 'deterministic' };
          if (job.attempt === 1) return { kind: 'later', runAt: (laterAt = Date.now() + 400), reason: 'backoff' };
          assert.ok(Date.now() >= laterAt, 'not run again before the time it asked for');
          return done;
        },
        { concurrency: 2 },
      );
      await waitFor(async () => (await q.state(queue, 'fail')) === 'failed', 'the failed job failed', WAIT);
      await waitFor(async () => (await q.state(queue, 'retry')) === 'delayed', 'the retried job delayed', WAIT);
      await waitFor(async () => (await q.state(queue, 'retry')) === 'done', 'the retried job done', WAIT);
      assert.deepEqual(attempts.sort(), ['fail#1', 'retry#1', 'retry#2']);
    });

    test('promote makes a delayed job due now; a job that is not delayed is not promoted', async () => {
      const q = await open();
      const queue = fresh();
      await q.add(queue, [
        { id: 'far', data: null, runAt: Date.now() + 3_600_000 },
        { id: 'now', data: null },
      ]);
      assert.equal(await q.promote(queue, 'now'), false);
      assert.equal(await q.promote(queue, 'absent'), false);
      assert.equal(await q.promote(queue, 'far'), true);
      const ran: string[] = [];
      q.work(queue, async (job) => (ran.push(job.id), done), { concurrency: 1 });
      await waitFor(async () => (await q.state(queue, 'far')) === 'done', 'the promoted job done', WAIT);
      assert.deepEqual(ran.sort(), ['far', 'now']);
    });

    test('remove takes out a job that is not running, never a running one', async () => {
      const q = await open();
      const queue = fresh();
      await q.add(queue, [
        { id: 'later', data: null, runAt: Date.now() + 3_600_000 },
        { id: 'busy', data: null },
      ]);
      assert.equal(await q.remove(queue, 'later'), true);
      assert.equal(await q.state(queue, 'later'), undefined);
      assert.equal(await q.remove(queue, 'later'), false, 'absent');
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      q.work(queue, async () => (await held, done), { concurrency: 1 });
      await waitFor(async () => (await q.state(queue, 'busy')) === 'active', 'the job running', WAIT);
      assert.equal(await q.remove(queue, 'busy'), false, 'running');
      release();
      await waitFor(async () => (await q.state(queue, 'busy')) === 'done', 'the job done', WAIT);
      assert.equal(await q.remove(queue, 'busy'), true, 'a finished job can be removed');
    });

    test('a worker runs at most its concurrency at once', async () => {
      const q = await open();
      const queue = fresh();
      await q.add(
        queue,
        Array.from({ length: 8 }, (_, i) => ({ id: `c${i}`, data: i })),
      );
      let running = 0;
      let most = 0;
      const ran = new Set<string>();
      q.work(
        queue,
        async (job) => {
          running += 1;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 60));
          running -= 1;
          ran.add(job.id);
          return done;
        },
        { concurrency: 3 },
      );
      await waitFor(() => ran.size === 8, 'all eight jobs run', WAIT);
      assert.equal(most, 3, 'three at once, never more');
    });

    test('closing a worker aborts its running handlers and waits for them; their later outcome is kept', async () => {
      const q = await open();
      const queue = fresh();
      await q.add(queue, [{ id: 'long', data: null }]);
      let signal: AbortSignal | undefined;
      const worker = q.work(
        queue,
        async (_job, s): Promise<JobOutcome> => {
          signal = s;
          await new Promise((r) => s.addEventListener('abort', r, { once: true }));
          return { kind: 'later', runAt: Date.now() + 3_600_000, reason: 'shutting down' };
        },
        { concurrency: 1 },
      );
      await waitFor(() => signal !== undefined, 'the handler running', WAIT);
      assert.equal(signal!.aborted, false);
      await worker.close();
      assert.equal(signal!.aborted, true);
      assert.equal(await q.state(queue, 'long'), 'delayed', 'the handler answered later before close resolved');
    });

    test('two instances working one queue share its jobs and run none twice', async () => {
      const [q1, q2] = [await open(), await open()];
      const queue = fresh();
      const ids = Array.from({ length: 30 }, (_, i) => `s${i}`);
      const runs: string[] = [];
      const by = new Set<number>();
      const handler = (n: number) => async (job: QueuedJob<unknown>) => {
        runs.push(job.id);
        by.add(n);
        await new Promise((r) => setTimeout(r, 15));
        return done;
      };
      q1.work(queue, handler(1), { concurrency: 2 });
      q2.work(queue, handler(2), { concurrency: 2 });
      await q1.add(queue, ids.slice(0, 15).map((id) => ({ id, data: null })));
      await q2.add(queue, ids.slice(15).map((id) => ({ id, data: null })));
      await waitFor(() => runs.length >= ids.length, 'every job run', WAIT);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual([...runs].sort(), [...ids].sort(), 'each job exactly once');
      assert.deepEqual([...by].sort(), [1, 2], 'both instances took jobs');
    });

    test('worker options no queue can honour are refused', async () => {
      const q = await open();
      const handler = async () => done;
      assert.throws(() => q.work(fresh(), handler, { concurrency: 0 }), /concurrency must be at least 1/);
    });

    test('a job whose worker died mid-run runs again once its lease lapses, counting the dead run as an attempt', async () => {
      const queue = fresh();
      await fx!.dieMidRun(queue, 'orphan');
      const q = await open();
      const runs: QueuedJob<unknown>[] = [];
      q.work(queue, async (job) => (runs.push(job), done), { concurrency: 1 });
      await waitFor(async () => (await q.state(queue, 'orphan')) === 'done', 'the orphaned job done by another worker', 30_000);
      assert.equal(runs.length, 1);
      assert.equal(runs[0]!.attempt, 2);
    });
  });
}
