import type { JobWorkerOptions } from './job-queue.js';

/** Refuses worker options no queue can honour, the same way in every implementation. */
export function checkWorkerOptions(options: JobWorkerOptions): void {
  if (!(options.concurrency >= 1)) throw new RangeError(`concurrency must be at least 1 (got ${options.concurrency})`);
}
