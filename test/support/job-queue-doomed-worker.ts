// A worker process the contract kills mid-run: it adds one job, starts it,
// says "started" and hangs until SIGKILL (its lease is never given back).
import { openQueue, type DurableQueueTarget } from './job-queue-targets.js';

const { target, queue, id } = JSON.parse(process.argv[2]!) as { target: DurableQueueTarget; queue: string; id: string };
const { queue: q } = await openQueue(target);
q.work(queue, () => (process.stdout.write('started\n'), new Promise<never>(() => undefined)), { concurrency: 1 });
await q.add(queue, [{ id, data: null }]);
