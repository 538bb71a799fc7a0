/**
 * Done when (issue #14): the gateway killed with SIGKILL mid-batch on the
 * embedded store (SQLite and its own work queue), then restarted: the batch
 * completes with every custom_id exactly once; the test reports how many
 * items were sent upstream twice (at most those in flight at the kill).
 */
import { test } from 'node:test';
import { batchSurvivesKill } from './support/batch-crash.js';

test('SIGKILL mid-batch on the embedded store, then a restart: every custom_id exactly once', async (t) => {
  // The killed run's leases lapse after the queue's lease time (30 s), then its items run again.
  await batchSurvivesKill(t, {});
});
