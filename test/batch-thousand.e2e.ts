/**
 * Done when (issue #14): with the official `openai` client, files.create,
 * batches.create, batches.retrieve until done and files.content, a
 * 1,000-item batch against the simulated provider completes with 1,000
 * output lines, one per custom_id. On the embedded default: the SQLite
 * file store and its own work queue.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { batchLine as line, outputLines, uploadBatchFile, waitForBatch } from './support/batches.js';
import { call, createKey, simReply, sqliteGateway, type CreatedKey } from './gateway-support/harness.js';

let started: Awaited<ReturnType<typeof sqliteGateway>>;
let key: CreatedKey;
let client: OpenAI;

before(async () => {
  started = await sqliteGateway();
  key = await createKey(started.gw, { tenant: 'acme', allowedClasses: ['general', 'batch-summaries'], defaultClass: 'general' });
  client = new OpenAI({ baseURL: `${started.gw.url}/v1`, apiKey: key.key, maxRetries: 0 });
});
after(async () => started?.close());

test('a 1,000-item batch completes with 1,000 output lines, one per custom_id, each the routed completion', async (t) => {
  started.sim.resetStats();
  const ids = Array.from({ length: 1000 }, (_, i) => `item-${i}`);
  const file = await uploadBatchFile(client, ids.map((id) => line(id, `summarize ${id}`)));
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { run: 'thousand' } });
  assert.match(created.id, /^batch_/);
  assert.equal(created.object, 'batch');
  assert.equal(created.status, 'in_progress');
  assert.deepEqual(created.request_counts, { total: 1000, completed: 0, failed: 0 });
  assert.deepEqual(created.metadata, { run: 'thousand' });
  assert.equal((created as any).llm_router.traffic_class, 'batch-summaries');
  const batch = await waitForBatch(client, created.id, undefined, 100_000);
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.request_counts, { total: 1000, completed: 1000, failed: 0 });
  assert.equal(batch.error_file_id, null);
  assert.ok(batch.completed_at! >= batch.in_progress_at!);
  const out = await outputLines(client, batch.output_file_id);
  assert.equal(out.length, 1000);
  assert.deepEqual(out.map((o) => o.custom_id).sort(), [...ids].sort());
  const first = out.find((o) => o.custom_id === 'item-7')!;
  assert.match(first.id, /^batch_req_/);
  assert.equal(first.error, null);
  assert.equal(first.response.status_code, 200);
  assert.equal(first.response.body.object, 'chat.completion');
  assert.equal(first.response.body.choices[0].message.content, simReply('standard-1', 'summarize item-7'));
  // One routed call per item, under the batch class, for the key's tenant.
  const routed = started.gw.records.filter((r) => r.tenant === 'acme' && r.trafficClass === 'batch-summaries');
  assert.equal(routed.length, 1000);
  assert.ok(routed.every((r) => r.outcome === 'success'));
  t.diagnostic(`upstream requests: ${started.sim.stats().requests} for 1,000 items (more only when an attempt timed out and was retried)`);
  // Its routing record is the key's, under the batch class.
  const record = await call(started.gw.url, `/v1/records/${first.response.request_id}`, { key: key.key });
  assert.equal(record.status, 200);
  assert.equal(record.json.trafficClass ?? record.json.traffic_class, 'batch-summaries');
});
