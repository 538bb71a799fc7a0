/**
 * Issue #13, item 9: under API-key auth the sample workflows (`/support/chat`,
 * `/batch/summaries`) spend like `/v1` does, so they need a key: one keyless
 * batch of 500 items made 501 upstream calls charged to no tenant. With a key
 * they run as its tenant, within its classes and its own budget, and each
 * call's record is the key's. Real gateway, real simulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, chat, createKey, oneWorstCaseUsd, startGw, startSim, until, type Gw, type SimulatorHandle } from './gateway-support/harness.js';

let sim: SimulatorHandle;
let gw: Gw;

before(async () => {
  sim = await startSim();
  gw = await startGw(sim);
});
after(async () => {
  await gw.close();
  await sim.close();
});

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `i${i}`, text: `text ${i}` }));

/** The sample batch, polled through its GET until final. */
async function batchDone(key: string, id: string): Promise<any> {
  let last: any;
  await until(async () => ['completed', 'failed', 'cancelled', 'expired'].includes((last = (await call(gw.url, `/batch/summaries/${id}`, { key })).json).status), `batch ${id}`, 20_000);
  return last;
}

describe('the sample workflows need an API key', () => {
  test('without a key: 401 in the OpenAI shape, and nothing reaches the upstream', async () => {
    sim.resetStats();
    const batch = await call(gw.url, '/batch/summaries', { body: { items: items(500) } });
    assert.equal(batch.status, 401, batch.text);
    assert.equal(batch.json.error.code, 'missing_api_key');
    const support = await call(gw.url, '/support/chat', { body: { message: 'hi' }, headers: { 'x-tenant-id': 'someone-else' } });
    assert.equal(support.status, 401, support.text);
    assert.equal(sim.stats().requests, 0);
  });

  test('with a key: the calls run as its tenant (an x-tenant-id header cannot change that) and are recorded as the key\'s', async () => {
    const key = await createKey(gw, { tenant: 'acme' });
    const batch = await call(gw.url, '/batch/summaries', { key: key.key, body: { items: items(3) }, headers: { 'x-tenant-id': 'victim' } });
    assert.equal(batch.status, 202, batch.text);
    assert.equal(batch.headers.get('location'), `/batch/summaries/${batch.json.id}`);
    assert.equal(batch.json.llm_router.traffic_class, 'batch-summaries');
    const done = await batchDone(key.key, batch.json.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.results.map((r: { id: string; status: string }) => [r.id, r.status]), items(3).map((i) => [i.id, 'done']));
    assert.equal(typeof done.results[0].summary, 'string');
    // Another tenant's key cannot see it.
    const stranger = await createKey(gw, { tenant: 'stranger' });
    assert.equal((await call(gw.url, `/batch/summaries/${batch.json.id}`, { key: stranger.key })).status, 404);
    const support = await call(gw.url, '/support/chat', { key: key.key, body: { message: 'where is my order?' } });
    assert.equal(support.status, 200, support.text);
    const mine = gw.records.filter((r) => r.tenant === 'acme');
    assert.equal(mine.length, 4);
    assert.ok(!gw.records.some((r) => r.tenant === 'victim'));
    const usage = await call(gw.url, '/v1/usage?period=all', { key: key.key });
    assert.equal(usage.status, 200, usage.text);
    assert.equal(usage.json.totals.requests, 4);
    const byKey = usage.json.byKey as { key: string; requests: number }[];
    assert.deepEqual(byKey.map((k) => [k.key, k.requests]), [[key.id, 4]], 'every call attributed to the key');
  });

  test('a key not allowed the workflow\'s class: 403; a key whose own budget cannot hold another call: 402 per call', async () => {
    const generalOnly = await createKey(gw, { tenant: 'acme', allowedClasses: ['general'] });
    const refused = await call(gw.url, '/support/chat', { key: generalOnly.key, body: { message: 'hi' } });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json.error.code, 'traffic_class_not_allowed');

    // Room for exactly one worst case: the first call fits, and its cost leaves less than any next call's worst case.
    const tiny = await createKey(gw, { tenant: 'acme', budget: { budgetUsd: oneWorstCaseUsd(gw, 'premium-a', 'spend it') } });
    assert.equal((await chat(gw, tiny.key, 'spend it')).status, 200);
    await call(gw.url, '/v1/usage', { key: tiny.key }); // the spend is counted once its record is in
    // What is left of the key's budget holds no call's worst case: each call is refused on the key's lease.
    const support = await call(gw.url, '/support/chat', { key: tiny.key, body: { message: 'more' } });
    assert.equal(support.status, 402, support.text);
    assert.equal(support.json.error.code, 'insufficient_quota');
    // The batch class's cheaper models still fit what is left: its items reserve on the key too, and the key stays within its budget.
    const batch = await call(gw.url, '/batch/summaries', { key: tiny.key, body: { items: items(2) } });
    assert.equal(batch.status, 202, batch.text);
    const done = await batchDone(tiny.key, batch.json.id);
    assert.deepEqual(done.results.map((r: { status: string }) => r.status), ['done', 'done']);
    const usage = await call(gw.url, '/v1/usage?period=all', { key: tiny.key });
    const spentByKey = (usage.json.byKey as { key: string; requests: number; costUsd: number }[]).find((k) => k.key === tiny.id)!;
    assert.equal(spentByKey.requests, 4, 'the /v1 call, the refused support chat and the two items');
    assert.ok(spentByKey.costUsd <= oneWorstCaseUsd(gw, 'premium-a', 'spend it'));
  });
});
