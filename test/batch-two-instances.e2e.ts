/**
 * Done when (issue #14): two gateway instances on one Redis (and one
 * PostgreSQL store) share one batch's items with no duplicate: both work it,
 * each custom_id is answered once, by one routed call.
 * Skipped with the reason when Redis or PostgreSQL is unreachable, except
 * under CI=true.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import OpenAI from 'openai';
import { createKey, postgresOrSkip, startGw, startSim, testPolicy } from './gateway-support/harness.js';
import { batchLine, outputLines, uploadBatchFile, waitForBatch } from './support/batches.js';
import { deletePrefix, REDIS_URL, redisAvailable } from './support/services.js';

const ITEMS = 300;

test('two instances on one Redis share one batch: each custom_id once, one routed call per item, both instances worked it', async (t) => {
  const redis = await redisAvailable();
  if (redis !== true) return t.skip(redis);
  const pgStore = await postgresOrSkip();
  if ('skip' in pgStore) return t.skip(pgStore.skip);
  const prefix = `batch2-${randomUUID().slice(0, 8)}:`;
  const sim = await startSim();
  const policy = { ...testPolicy(sim.url), batches: { concurrency: 4, perTenantConcurrency: 4 } };
  const options = { store: pgStore.store, redisUrl: REDIS_URL, redisKeyPrefix: prefix, keysRefreshMs: 50, batchWatchMs: 100, router: { policy } };
  const a = await startGw(sim, options);
  const b = await startGw(sim, options);
  try {
    sim.addFaults({ match: { model: 'up-standard-1' }, fault: { latencyMs: 20 } });
    const key = await createKey(a, { tenant: 'shared', allowedClasses: ['general', 'batch-summaries'] });
    const client = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: key.key, maxRetries: 0 });
    const ids = Array.from({ length: ITEMS }, (_, i) => `two-${String(i).padStart(3, '0')}`);
    const file = await uploadBatchFile(client, ids.map((id) => batchLine(id, `summarize ${id}`)));
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    // Instance b learns of the batch from the shared store and works its tenant's queue too.
    const done = await waitForBatch(new OpenAI({ baseURL: `${b.url}/v1`, apiKey: key.key, maxRetries: 0 }), created.id, undefined, 90_000);
    assert.equal(done.status, 'completed');
    const out = await outputLines(client, done.output_file_id);
    assert.equal(out.length, ITEMS);
    assert.deepEqual(out.map((o) => o.custom_id).sort(), ids, 'every custom_id exactly once');
    const byA = a.records.filter((r) => r.tenant === 'shared').length;
    const byB = b.records.filter((r) => r.tenant === 'shared').length;
    t.diagnostic(`items routed by instance a: ${byA}, by instance b: ${byB}; upstream requests: ${sim.stats().requests}`);
    assert.equal(byA + byB, ITEMS, 'one routed call per item across both instances');
    assert.ok(byA > 0 && byB > 0, 'both instances worked the batch');
    // Every routed call went upstream once unless an attempt timed out on a loaded machine (then the record shows the retry).
    const attempts = [...a.records, ...b.records].filter((r) => r.tenant === 'shared').reduce((n, r) => n + r.attempts.length, 0);
    assert.equal(sim.stats().requests, attempts, 'every upstream request was an attempt of one of those calls');
  } finally {
    await a.close();
    await b.close();
    await sim.close();
    await pgStore.drop();
    await deletePrefix(REDIS_URL, `{${prefix}`);
    await deletePrefix(REDIS_URL, prefix);
  }
});
