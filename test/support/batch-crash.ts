/**
 * A batch through a gateway killed with SIGKILL part way and restarted on
 * the same store (and Redis, when given): it completes with every custom_id
 * exactly once, and the test reports how many items went upstream twice.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import OpenAI from 'openai';
import { ADMIN_KEY, call, startSim, tempDir, testPolicy, until } from '../gateway-support/harness.js';
import { batchLine, outputLines, uploadBatchFile, waitForBatch } from './batches.js';
import { startGateway, stopGateway, type Gateway } from './gateway-process.js';

const ITEMS = 240;
/** The gateway is killed once this many items are finished. */
const KILL_AFTER = 60;
const PER_TENANT = 4;

export async function batchSurvivesKill(t: TestContext, extraEnv: Record<string, string>): Promise<void> {
  const sim = await startSim();
  const dir = tempDir();
  let gw: Gateway | undefined;
  try {
    // Slow items: the batch is mid-way when the gateway dies.
    sim.addFaults({ match: { model: 'up-standard-1' }, fault: { latencyMs: 40 } });
    const policyFile = join(dir.path, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ ...testPolicy(sim.url), batches: { concurrency: 8, perTenantConcurrency: PER_TENANT } }));
    const env = {
      LLM_POLICY_FILE: policyFile,
      LLM_SIMULATOR: 'off',
      LLM_ADMIN_KEY: ADMIN_KEY,
      LLM_REQUEST_LOG: 'false',
      LLM_SQLITE_PATH: join(dir.path, 'gateway.sqlite'),
      LLM_BATCH_WATCH_MS: '200',
      ...extraEnv,
    };
    gw = await startGateway(env);
    const created = await call(gw.url, '/admin/keys', { key: ADMIN_KEY, body: { tenant: 'acme', allowedClasses: ['general', 'batch-summaries'] } });
    assert.equal(created.status, 201, created.text);
    const key = (created.json as { key: string }).key;
    const ids = Array.from({ length: ITEMS }, (_, i) => `doc-${String(i).padStart(3, '0')}`);
    let client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    const file = await uploadBatchFile(client, ids.map((id) => batchLine(id, `summarize ${id}`)));
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await until(async () => (await client.batches.retrieve(batch.id)).request_counts!.completed >= KILL_AFTER, `${KILL_AFTER} items finished`, 60_000);
    await stopGateway(gw, 'SIGKILL');
    const sentBeforeKill = sim.stats().requests;
    assert.ok(sentBeforeKill < ITEMS, `the gateway died mid-batch (${sentBeforeKill} of ${ITEMS} sent)`);

    gw = await startGateway(env);
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
    const done = await waitForBatch(client, batch.id, undefined, 90_000);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.request_counts, { total: ITEMS, completed: ITEMS, failed: 0 });
    const out = await outputLines(client, done.output_file_id);
    assert.equal(out.length, ITEMS, 'one line per item');
    assert.deepEqual(out.map((o) => o.custom_id).sort(), ids, 'every custom_id exactly once');
    const twice = sim.stats().requests - ITEMS;
    t.diagnostic(`items sent upstream twice: ${twice} (in flight at the kill: at most ${PER_TENANT})`);
    assert.ok(twice >= 0 && twice <= PER_TENANT, `only items in flight at the kill went upstream twice (${twice})`);
  } finally {
    await stopGateway(gw, 'SIGKILL');
    await sim.close();
    dir.remove();
  }
}
