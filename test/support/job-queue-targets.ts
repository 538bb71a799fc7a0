import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { JobQueue } from '@llm-router/nestjs';
import { BullMqJobQueue } from '@llm-router/nestjs/bullmq';
import { Redis } from 'ioredis';
import type { StoreConfig } from '../../apps/gateway/src/config/gateway.config.js';
import { SqlJobQueue } from '../../apps/gateway/src/jobs/sql-job-queue.js';
import { createStore } from '../../apps/gateway/src/store/create-store.js';

/** A durable queue the contract reaches from this process and from a worker process it kills. */
export type DurableQueueTarget = { readonly kind: 'bullmq'; readonly url: string; readonly prefix: string } | { readonly kind: 'sql'; readonly store: StoreConfig };

/** Short leases, so a killed worker's job runs again within the test. */
const LEASE = { lockDurationMs: 1_000, stalledIntervalMs: 500 } as const;

/** A queue on `target` and its close (the queue, then the connections the test made for it). */
export async function openQueue(target: DurableQueueTarget): Promise<{ queue: JobQueue; close(): Promise<void> }> {
  if (target.kind === 'sql') {
    const store = await createStore(target.store);
    const queue = new SqlJobQueue(store.jobs, { leaseMs: LEASE.lockDurationMs, pollMs: 50 });
    return {
      queue,
      close: async () => {
        await queue.close();
        await store.close();
      },
    };
  }
  const redis = new Redis(target.url, { maxRetriesPerRequest: 1 });
  const queue = new BullMqJobQueue({ connection: redis, prefix: target.prefix, ...LEASE });
  return {
    queue,
    close: async () => {
      await queue.close();
      redis.disconnect();
    },
  };
}

/**
 * Adds job `id` to `queue` on `target` from a separate process whose worker
 * starts it and hangs; the process is killed with SIGKILL once the run began.
 */
export async function dieMidRunInChild(target: DurableQueueTarget, queue: string, id: string): Promise<void> {
  const script = fileURLToPath(new URL('./job-queue-doomed-worker.js', import.meta.url));
  const child = spawn(process.execPath, [script, JSON.stringify({ target, queue, id })], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('started')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the doomed worker exited (${code}) before its job started`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}
