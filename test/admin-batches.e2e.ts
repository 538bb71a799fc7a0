/**
 * `GET /admin/batches` on both stores: batches of several tenants, made with
 * the official `openai` client (one completed, one paused on its tenant's
 * budget), listed across tenants as OpenAI batch objects with their
 * `llm_router` pause, newest first, filtered by tenant and status, paged with
 * `after`/`limit`; bad query values are OpenAI-shaped 400s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { ADMIN_KEY, call, createKey, forEachStore, setBudget, startGw, startSim, type Gw, type SimulatorHandle, type SuiteStore } from './gateway-support/harness.js';
import { assertBadQueries, assertListPage, ids } from './support/admin-listing.js';
import { batchLine, uploadBatchFile, waitForBatch } from './support/batches.js';

function listingSuite(name: string, storeFor: () => Promise<SuiteStore>) {
  describe(`GET /admin/batches on ${name}`, () => {
    let sim: SimulatorHandle;
    let gw: Gw;
    let skip: string | undefined;
    let cleanup: () => Promise<void> = async () => undefined;
    let doneId = '';
    let pausedId = '';

    const batchOf = async (tenant: string, lines: number) => {
      const key = await createKey(gw, { tenant, allowedClasses: ['general', 'batch-summaries'], defaultClass: 'general' });
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key.key, maxRetries: 0 });
      const file = await uploadBatchFile(client, Array.from({ length: lines }, (_, i) => batchLine(`item-${i}`, `summarize ${tenant} ${i}`)));
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      return { client, batch };
    };

    before(async () => {
      const store = await storeFor();
      if ('skip' in store) {
        skip = store.skip;
        return;
      }
      cleanup = store.cleanup;
      sim = await startSim();
      gw = await startGw(sim, { store: store.store, batchWatchMs: 50 });
      const done = await batchOf('finished', 3);
      doneId = (await waitForBatch(done.client, done.batch.id)).id;
      // A budget no item fits: the batch pauses before its first item goes upstream.
      await setBudget(gw, 'starved', { budgetUsd: 0.000001 });
      const starved = await batchOf('starved', 2);
      pausedId = (await waitForBatch(starved.client, starved.batch.id, (b) => (b as any).llm_router.paused === true, 20_000)).id;
    });
    after(async () => {
      await gw?.close();
      await sim?.close();
      await cleanup();
    });

    const admin = (query: string, key = ADMIN_KEY) => call(gw.url, `/admin/batches${query}`, { key });

    test('every tenant, newest first, as OpenAI batch objects with progress and pause', async (t) => {
      if (skip) return t.skip(skip);
      const all = await admin('');
      assertListPage(all, [pausedId, doneId]);

      const [paused, done] = all.json.data;
      assert.equal(paused.object, 'batch');
      assert.equal(paused.status, 'in_progress');
      assert.deepEqual(paused.request_counts, { total: 2, completed: 0, failed: 0 });
      assert.equal(paused.llm_router.paused, true);
      assert.ok(['budget_restricted', 'insufficient_quota', 'budget_reservation_denied'].includes(paused.llm_router.pause.reason), paused.llm_router.pause.reason);
      assert.ok(Date.parse(paused.llm_router.pause.resumes_at) > Date.now());
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 3, completed: 3, failed: 0 });
      assert.equal(done.llm_router.paused, false);
      assert.equal(done.llm_router.pause, null);
      // Whose batch it is: in the gateway's extension field (OpenAI's object has no tenant).
      assert.deepEqual([paused.llm_router.tenant, done.llm_router.tenant], ['starved', 'finished']);
    });

    test('tenant and status filters, alone and together', async (t) => {
      if (skip) return t.skip(skip);
      assert.deepEqual(ids(await admin('?tenant=finished')), [doneId]);
      assert.deepEqual(ids(await admin('?status=completed')), [doneId]);
      assert.deepEqual(ids(await admin('?status=in_progress')), [pausedId]);
      assert.deepEqual(ids(await admin('?tenant=finished&status=in_progress')), []);
      assert.deepEqual(ids(await admin('?tenant=nobody')), []);
    });

    test('after/limit pages', async (t) => {
      if (skip) return t.skip(skip);
      const first = await admin('?limit=1');
      assert.deepEqual(ids(first), [pausedId]);
      assert.equal(first.json.has_more, true);
      const second = await admin(`?limit=1&after=${first.json.last_id}`);
      assert.deepEqual(ids(second), [doneId]);
      assert.equal(second.json.has_more, false);
    });

    test('bad values are OpenAI-shaped 400s naming the parameter; no admin credential, no listing', async (t) => {
      if (skip) return t.skip(skip);
      await assertBadQueries(admin, [
        ['?status=paused', 'status'],
        ['?limit=0', 'limit'],
        ['?limit=101', 'limit'],
        ['?after=batch_nosuchbatch', 'after'],
        ['?colour=blue', null],
      ]);
      assert.equal((await admin('', 'wrong')).status, 401);
    });
  });
}

forEachStore(listingSuite);
