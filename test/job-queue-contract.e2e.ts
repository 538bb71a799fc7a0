import { randomBytes } from 'node:crypto';
import { InMemoryJobQueue, type JobQueue } from '@llm-router/nestjs';
import { jobQueueContract, type JobQueueFixture } from './support/job-queue-contract.js';
import { dieMidRunInChild, openQueue, type DurableQueueTarget } from './support/job-queue-targets.js';
import { forEachStore } from './gateway-support/harness.js';
import { deletePrefix, REDIS_URL, redisAvailable } from './support/services.js';
import { waitFor } from './support/sim.js';

// One contract suite, run against every JobQueue implementation.

jobQueueContract('in-memory', async () => {
  // One process: every "instance" is the same queue, and a worker dies with its job only by hanging.
  const queue = new InMemoryJobQueue({ leaseMs: 500 });
  return {
    open: async (): Promise<JobQueue> => queue,
    dieMidRun: async (name, id) => {
      let started = false;
      const worker = queue.work(name, () => ((started = true), new Promise<never>(() => undefined)), { concurrency: 1 });
      await queue.add(name, [{ id, data: null }]);
      await waitFor(() => started, 'the doomed run started');
      // Closed, it takes no more jobs; its hung run holds the lease until it lapses.
      void worker.close();
    },
    cleanup: async () => undefined,
  };
});

forEachStore((name, storeFor) =>
  jobQueueContract(`gateway SQL store, ${name}`, async () => {
    const made = await storeFor();
    if ('skip' in made) return made;
    return durableFixture({ kind: 'sql', store: made.store }, made.cleanup);
  }),
);

jobQueueContract('BullMQ on Redis', async () => {
  const ok = await redisAvailable();
  if (ok !== true) return { skip: ok };
  const target: DurableQueueTarget = { kind: 'bullmq', url: REDIS_URL, prefix: `{test-jq-${process.pid}-${randomBytes(3).toString('hex')}}` };
  return durableFixture(target, async () => void (await deletePrefix(REDIS_URL, target.prefix)));
});

/** A fixture over a durable target: each `open` is another instance with its own connections. */
function durableFixture(target: DurableQueueTarget, cleanup: () => Promise<void>): JobQueueFixture {
  const closes: Array<() => Promise<void>> = [];
  return {
    open: async () => {
      const opened = await openQueue(target);
      closes.push(opened.close);
      return opened.queue;
    },
    dieMidRun: (queue, id) => dieMidRunInChild(target, queue, id),
    cleanup: async () => {
      for (const close of closes) await close();
      await cleanup();
    },
  };
}
