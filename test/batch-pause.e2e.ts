/**
 * A batch pauses and resumes on its tenant's budget (issue #14), with the
 * official `openai` client:
 * - crossing the restricted tier (95 %) part way, the batch pauses and says
 *   why; the simulator receives no item after the pause beyond those already
 *   in flight; an interactive request of the tenant is served meanwhile;
 *   raising the budget resumes it and it completes, every custom_id once, and
 *   the ledger's spend equals the sum of the routing records;
 * - at the class's daily cap (an injected clock), it pauses until the UTC
 *   day rolls over, then resumes by itself and completes.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import OpenAI from 'openai';
import { chat, createKey, oneWorstCaseUsd, setBudget, sqliteStore, startGw, startSim, tempDir, testPolicy, until, type Gw, type SimulatorHandle } from './gateway-support/harness.js';
import { outputLines, uploadBatchFile, waitForBatch } from './support/batches.js';

const PER_TENANT = 2;
/** Items large next to the interactive call, so that one still fits the 5 % left above the restricted tier. */
const itemContent = (customId: string) => `summarize the document ${customId}: ${'lorem ipsum '.repeat(150)}`;
const ITEM_MAX_TOKENS = 200;
const line = (customId: string) => ({
  custom_id: customId,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { messages: [{ role: 'user', content: itemContent(customId) }], max_tokens: ITEM_MAX_TOKENS },
});

async function startPausable(clock?: () => number) {
  const sim = await startSim();
  const dir = tempDir();
  const base = testPolicy(sim.url);
  // One model on the batch route: a reservation the daily cap refuses cannot move on to a cheaper one.
  const classes = { ...base.classes, 'batch-summaries': { ...base.classes['batch-summaries']!, route: ['standard-1'] } };
  const policy = { ...base, classes, batches: { concurrency: 4, perTenantConcurrency: PER_TENANT } };
  const gw = await startGw(sim, { store: sqliteStore(dir.path), batchWatchMs: 50, router: { policy, ...(clock ? { clock } : {}) } });
  const close = async () => {
    await gw.close();
    await sim.close();
    dir.remove();
  };
  return { sim, gw, close };
}

/** The simulator's request count once nothing arrives for half a second (the items in flight at the pause have landed). */
async function settledRequests(sim: SimulatorHandle): Promise<number> {
  for (;;) {
    const before = sim.stats().requests;
    await new Promise((r) => setTimeout(r, 500));
    if (sim.stats().requests === before && sim.stats().inFlight === 0) return before;
  }
}

/** What one item costs: the same request routed once for another tenant, under the batch class. */
async function itemCostUsd(gw: Gw): Promise<number> {
  const probe = await createKey(gw, { tenant: 'probe', allowedClasses: ['batch-summaries'] });
  const res = await chat(gw, probe.key, itemContent('item-000'), { max_tokens: ITEM_MAX_TOKENS });
  assert.equal(res.status, 200, res.text);
  const record = gw.records.find((r) => r.tenant === 'probe' && r.outcome === 'success');
  assert.ok(record && record.costUsd > 0);
  return record.costUsd;
}

describe('a batch paused on its budget', () => {
  const toClose: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of toClose) await close();
  });

  test('restricted tier: pauses (saying why), sends nothing more upstream, interactive calls are served, a raised budget resumes it', async () => {
    const started = await startPausable();
    toClose.push(started.close);
    const { sim, gw } = started;
    const cost = await itemCostUsd(gw);
    const key = await createKey(gw, { tenant: 'pausy', allowedClasses: ['general', 'batch-summaries'], defaultClass: 'general' });
    // 95 % is crossed after about 20 of the 60 items.
    await setBudget(gw, 'pausy', { budgetUsd: (cost * 20.5) / 0.95 });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key.key, maxRetries: 0 });
    sim.resetStats();

    const ids = Array.from({ length: 60 }, (_, i) => `item-${String(i).padStart(3, '0')}`);
    const file = await uploadBatchFile(client, ids.map(line));
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const paused = await waitForBatch(client, created.id, (b) => (b as any).llm_router.paused === true, 20_000);
    const sentAtPause = sim.stats().requests;
    assert.equal(paused.status, 'in_progress');
    const pause = (paused as any).llm_router.pause;
    assert.ok(['budget_restricted', 'insufficient_quota'].includes(pause.reason), pause.reason);
    assert.match(pause.message, /pausy/);
    assert.ok(Date.parse(pause.resumes_at) > Date.now(), 'it resumes at the end of the budget period at the latest');
    assert.match(pause.resumes_when, /budget is raised/);
    assert.ok(sentAtPause >= 10 && sentAtPause < 50, `it paused part way (${sentAtPause} of 60 items sent)`);

    // Items in flight finish; nothing more goes upstream while it is paused.
    const settled = await settledRequests(sim);
    assert.ok(settled <= sentAtPause + PER_TENANT, `at most the ${PER_TENANT} items in flight were sent after the pause (${settled - sentAtPause})`);
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(sim.stats().requests, settled, 'no item was sent upstream while the batch was paused');
    const still = await client.batches.retrieve(created.id);
    assert.equal((still as any).llm_router.paused, true);
    assert.ok(still.request_counts!.completed < 60);

    // The tenant's interactive class is served meanwhile.
    const interactive = await chat(gw, key.key, 'an interactive question', { max_tokens: 5 });
    assert.equal(interactive.status, 200, interactive.text);
    assert.equal(sim.stats().requests, settled + 1);

    // A raised budget resumes it at once.
    await setBudget(gw, 'pausy', { budgetUsd: cost * 1000 });
    const done = await waitForBatch(client, created.id, undefined, 30_000);
    assert.equal(done.status, 'completed');
    assert.equal((done as any).llm_router.paused, false);
    assert.deepEqual(done.request_counts, { total: 60, completed: 60, failed: 0 });
    const out = await outputLines(client, done.output_file_id);
    assert.equal(out.length, 60);
    assert.deepEqual(out.map((o) => o.custom_id).sort(), ids, 'every custom_id exactly once');
    assert.equal(done.error_file_id, null);

    // The ledger's spend is the sum of the tenant's routing records (refusals cost nothing).
    await until(async () => (await gw.router.budgets.state('pausy'))!.reservedUsd === 0, 'every reservation settled');
    const ledger = (await gw.router.budgets.state('pausy'))!.spentUsd;
    const recorded = gw.records.filter((r) => r.tenant === 'pausy').reduce((sum, r) => sum + r.costUsd, 0);
    assert.ok(Math.abs(ledger - recorded) < 1e-9, `ledger ${ledger} == records ${recorded}`);
    assert.ok(gw.records.some((r) => r.tenant === 'pausy' && r.trafficClass === 'batch-summaries' && r.errorCategory === 'budget_exhausted'), 'the refusal that paused it is recorded');
  });

  test("a worst case that does not fit only beside the batch's own items in flight waits for them: the batch is not paused", async () => {
    const started = await startPausable();
    toClose.push(started.close);
    const { gw } = started;
    const key = await createKey(gw, { tenant: 'roomy', allowedClasses: ['batch-summaries'], defaultClass: 'batch-summaries' });
    // No max_tokens: each item reserves its worst case (the model's whole output). One fits, two at once do not;
    // what items really cost is a small part of it, so the batch's spend stays far below the budget.
    const plain = (customId: string) => ({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { messages: [{ role: 'user', content: itemContent(customId) }] } });
    const worst = oneWorstCaseUsd(gw, 'standard-1', itemContent('item-000'));
    await setBudget(gw, 'roomy', { budgetUsd: worst * 1.5 });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key.key, maxRetries: 0 });
    const ids = Array.from({ length: 8 }, (_, i) => `item-${String(i).padStart(3, '0')}`);
    const created = await client.batches.create({ input_file_id: (await uploadBatchFile(client, ids.map(plain))).id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    let everPaused = false;
    const done = await waitForBatch(
      client,
      created.id,
      (b) => {
        everPaused ||= (b as any).llm_router.paused === true;
        return ['completed', 'failed', 'expired', 'cancelled'].includes(b.status);
      },
      30_000,
    );
    assert.equal(everPaused, false, 'the batch was never paused');
    assert.deepEqual(done.request_counts, { total: 8, completed: 8, failed: 0 });
    const state = (await gw.router.budgets.state('roomy'))!;
    assert.ok(state.spentUsd < worst * 0.5, `spent ${state.spentUsd} of ${worst * 1.5}`);
  });

  test('daily cap (injected clock): pauses at the cap until the UTC day rolls over, then resumes by itself', async () => {
    let now = Date.UTC(2026, 5, 10, 22, 0, 0);
    const started = await startPausable(() => now);
    toClose.push(started.close);
    const { sim, gw } = started;
    const cost = await itemCostUsd(gw);
    const key = await createKey(gw, { tenant: 'capped', allowedClasses: ['general', 'batch-summaries'], defaultClass: 'general' });
    // The cap holds 10 items a day; the period budget is far away.
    await setBudget(gw, 'capped', { budgetUsd: cost * 10_000, dailyCapUsd: cost * 10.5 });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key.key, maxRetries: 0 });
    sim.resetStats();

    const ids = Array.from({ length: 15 }, (_, i) => `day-${String(i).padStart(2, '0')}`);
    const file = await uploadBatchFile(client, ids.map(line));
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const paused = await waitForBatch(client, created.id, (b) => (b as any).llm_router.paused === true, 20_000);
    const pause = (paused as any).llm_router.pause;
    assert.equal(pause.reason, 'daily_cap_exhausted');
    assert.equal(pause.resumes_at, '2026-06-11T00:00:00.000Z');
    assert.match(pause.resumes_when, /UTC day rolls over/);
    const sentDayOne = await settledRequests(sim);
    // Reservations are worst cases (the prompt and 200 output tokens): the cap refuses a little before 10 items are spent.
    assert.ok(sentDayOne >= 6 && sentDayOne <= 10, `about the cap's worth of items went upstream on day one (${sentDayOne})`);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sim.stats().requests, sentDayOne, 'nothing more before the day rolls over');
    assert.equal((await client.batches.retrieve(created.id)).status, 'in_progress');

    // The UTC day rolls over: the watcher resumes it, and the rest fits the new day's cap.
    now = Date.UTC(2026, 5, 11, 0, 0, 5);
    const done = await waitForBatch(client, created.id, undefined, 20_000);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.request_counts, { total: 15, completed: 15, failed: 0 });
    const out = await outputLines(client, done.output_file_id);
    assert.deepEqual(out.map((o) => o.custom_id).sort(), ids, 'every custom_id exactly once');
    assert.equal(out.filter((o) => o.response.status_code === 200).length, 15);
  });
});
