/**
 * Done when (issue #14): the gateway killed with SIGKILL mid-batch with its
 * work queue on BullMQ (LLM_REDIS_URL), then restarted: the batch completes
 * with every custom_id exactly once; the test reports how many items were
 * sent upstream twice (at most those in flight at the kill). Skipped with
 * the reason when Redis is unreachable, except under CI=true.
 */
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { batchSurvivesKill } from './support/batch-crash.js';
import { deletePrefix, REDIS_URL, redisAvailable } from './support/services.js';

test('SIGKILL mid-batch with the queue on BullMQ/Redis, then a restart: every custom_id exactly once', async (t) => {
  const redis = await redisAvailable();
  if (redis !== true) return t.skip(redis);
  const prefix = `batchkill-${randomUUID().slice(0, 8)}:`;
  try {
    await batchSurvivesKill(t, { LLM_REDIS_URL: REDIS_URL, LLM_REDIS_PREFIX: prefix });
  } finally {
    await deletePrefix(REDIS_URL, `{${prefix}`);
    await deletePrefix(REDIS_URL, prefix);
  }
});
