import { createHash } from 'node:crypto';
import type { NewJob } from '@llm-router/nestjs';

/**
 * The work queue a tenant's batch items run on: one per tenant, so each
 * tenant's worker runs at most its own concurrency and a tenant waiting for
 * room never holds another's. The name is hashed (a tenant may hold any
 * character a queue's names may not).
 */
export function itemQueue(tenant: string): string {
  return `llm-batch-items-${createHash('sha256').update(tenant).digest('hex').slice(0, 24)}`;
}

export interface ItemJob {
  readonly batchId: string;
  readonly customId: string;
}

/**
 * One job per item, its id from the batch and the custom_id: adding an item
 * twice (a restart's reconciliation) adds it once. The custom_id is hashed,
 * as it may hold any character a queue's ids may not.
 */
export function itemJobId(batchId: string, customId: string): string {
  return `${batchId}.${createHash('sha256').update(customId).digest('base64url').slice(0, 32)}`;
}

export function itemJob(batchId: string, customId: string, runAt?: number): NewJob<ItemJob> {
  return { id: itemJobId(batchId, customId), data: { batchId, customId }, ...(runAt !== undefined ? { runAt } : {}) };
}
