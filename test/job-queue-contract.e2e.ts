import { InMemoryJobQueue, type JobQueue } from '@llm-router/nestjs';
import { jobQueueContract } from './support/job-queue-contract.js';
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
