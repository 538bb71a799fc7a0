/**
 * The routing records over HTTP (issue #17's record search API), on both
 * stores: `GET /admin/records` with filters and cursor pages, newest first;
 * `GET /admin/records/:id` with a call's whole story (plan, attempts with
 * their categories, what served, the cost); `GET /v1/records/:id` for a key,
 * within its own tenant. Real gateway, real SQLite file and PostgreSQL schema.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY, call, chat, createKey, forEachStore, setBudget, simFault, startGw, startSim, type Gw, type SimulatorHandle, type SuiteStore } from './gateway-support/harness.js';

function searchSuite(name: string, storeFor: () => Promise<SuiteStore>) {
  describe(`record search on ${name}`, () => {
    let sim: SimulatorHandle;
    let gw: Gw;
    let skip: string | undefined;
    let cleanup: () => Promise<void> = async () => undefined;
    let keyA = '';
    let keyB = '';
    let fallbackId = '';
    let budgetedId = '';

    before(async () => {
      const store = await storeFor();
      if ('skip' in store) {
        skip = store.skip;
        return;
      }
      cleanup = store.cleanup;
      sim = await startSim();
      gw = await startGw(sim, { store: store.store });
      keyA = (await createKey(gw, { tenant: 'alpha' })).key;
      keyB = (await createKey(gw, { tenant: 'beta' })).key;
      assert.equal((await chat(gw, keyA, 'first')).status, 200);
      const fb = await chat(gw, keyA, `second ${simFault('premium-a', { error: 'overloaded' })}`);
      assert.equal(fb.headers.get('x-llm-fallback'), 'true');
      fallbackId = fb.headers.get('x-llm-request-id')!;
      assert.equal((await chat(gw, keyA, 'third', { stream: true })).status, 200);
      await setBudget(gw, 'beta', { budgetUsd: 5 });
      const budgeted = await chat(gw, keyB, 'other tenant');
      assert.equal(budgeted.status, 200);
      budgetedId = budgeted.headers.get('x-llm-request-id')!;
    });
    after(async () => {
      await gw?.close();
      await sim?.close();
      await cleanup();
    });

    const admin = (query: string) => call(gw.url, `/admin/records${query}`, { key: ADMIN_KEY });

    test('filters, newest first, in cursor pages', async (t) => {
      if (skip) return t.skip(skip);
      const all = await admin('?tenant=alpha');
      assert.equal(all.status, 200, all.text);
      assert.equal(all.json.data.length, 3);
      const times = all.json.data.map((r: { startedAt: string }) => Date.parse(r.startedAt));
      assert.deepEqual([...times].sort((a, b) => b - a), times, 'newest first');
      assert.ok(all.json.data.every((r: { tenant: string }) => r.tenant === 'alpha'));

      const first = await admin('?tenant=alpha&limit=2');
      assert.equal(first.json.data.length, 2);
      assert.equal(first.json.has_more, true);
      const second = await admin(`?tenant=alpha&limit=2&cursor=${first.json.next_cursor}`);
      assert.equal(second.json.data.length, 1);
      assert.equal(second.json.has_more, false);
      assert.equal(second.json.next_cursor, null);
      assert.deepEqual([...first.json.data, ...second.json.data].map((r: { requestId: string }) => r.requestId), all.json.data.map((r: { requestId: string }) => r.requestId));

      const fallbacks = await admin('?fallback=true');
      assert.deepEqual(fallbacks.json.data.map((r: { requestId: string }) => r.requestId), [fallbackId]);
      assert.equal((await admin('?model=premium-b')).json.data.length, 1);
      assert.equal((await admin('?tenant=beta&outcome=success&class=general')).json.data.length, 1);
      assert.equal((await admin('?tenant=alpha&from=2000-01-01&to=2000-01-02')).json.data.length, 0);
    });

    test('one request\'s story: the plan, each attempt with its category, what served and what it cost', async (t) => {
      if (skip) return t.skip(skip);
      const res = await call(gw.url, `/admin/records/${fallbackId}`, { key: ADMIN_KEY });
      assert.equal(res.status, 200, res.text);
      const r = res.json;
      assert.equal(r.object, 'routing.record');
      assert.deepEqual(r.plan.plannedRoute, ['premium-a', 'premium-b']);
      assert.deepEqual(r.attempts.map((a: { model: string; outcome: string; category: string | null }) => [a.model, a.outcome, a.category]), [
        ['premium-a', 'failure', 'transient'],
        ['premium-b', 'success', null],
      ]);
      assert.equal(r.servedModel, 'premium-b');
      assert.equal(r.fallback, true);
      assert.ok(r.costUsd > 0);
      // A budgeted call's record keeps what its serving attempt reserved, its overshoot and the budget left.
      const budgeted = (await call(gw.url, `/admin/records/${budgetedId}`, { key: ADMIN_KEY })).json;
      assert.ok(budgeted.plan.budget.reservedUsd >= budgeted.costUsd, JSON.stringify(budgeted.plan));
      assert.equal(budgeted.plan.budget.overshootUsd, 0);
      assert.ok(budgeted.plan.budget.remainingUsd > 0 && budgeted.plan.budget.remainingUsd < 5);
    });

    test('a key reads its own tenant\'s records only; unknown ids and bad queries are 4xx', async (t) => {
      if (skip) return t.skip(skip);
      assert.equal((await call(gw.url, `/v1/records/${fallbackId}`, { key: keyA })).status, 200);
      const other = await call(gw.url, `/v1/records/${fallbackId}`, { key: keyB });
      assert.equal(other.status, 404, other.text);
      assert.equal(other.json.error.code, 'not_found');
      assert.equal((await call(gw.url, '/admin/records/no-such-request', { key: ADMIN_KEY })).status, 404);
      for (const bad of ['?limit=0', '?cursor=bm9wZQ', '?outcome=maybe', '?colour=blue', '?from=yesterday']) {
        const res = await admin(bad);
        assert.equal(res.status, 400, `${bad}: ${res.text}`);
        assert.equal(typeof res.json.error.message, 'string');
      }
      assert.equal((await call(gw.url, '/admin/records', { key: keyA })).status, 401, 'the search is the operator\'s');
    });
  });
}

forEachStore(searchSuite);
