/**
 * Restart: spend is recorded, the gateway is closed (records still waiting in
 * the batch are written on close) and a new one opens the same store: keys
 * still authenticate, tenant budgets are back with their spend and tier, a
 * key's own budget remembers its spend, an exhausted tenant stays refused.
 * On the SQLite file and on PostgreSQL (skipped with the reason when
 * unreachable, except under CI=true).
 */
import assert from 'node:assert/strict';
import type { StoreConfig } from '../apps/gateway/src/index.js';
import { after, before, describe, test } from 'node:test';
import { call, chat, createKey, forEachStore, setBudget, startGw, startSim, type CreatedKey, type SuiteStore, type Gw, type SimulatorHandle } from './gateway-support/harness.js';

const near = (a: number, b: number) => Math.abs(a - b) < 1e-5;

function restartSuite(name: string, storeFor: () => Promise<SuiteStore>) {
  describe(`restart on ${name}`, () => {
    let sim: SimulatorHandle;
    let store: StoreConfig;
    let cleanup: () => Promise<void> = async () => undefined;
    let skip: string | undefined;

    before(async () => {
      const s = await storeFor();
      if ('skip' in s) {
        skip = s.skip;
        return;
      }
      store = s.store;
      cleanup = s.cleanup;
      sim = await startSim();
    });
    after(async () => {
      await sim?.close();
      await cleanup();
    });

    test('budget state, keys and usage survive a restart; nothing recorded is lost', async (t) => {
      if (skip) return t.skip(skip);
      // A long flush interval: whatever the first gateway records is written by close() alone.
      let gw: Gw = await startGw(sim, { store, recordFlushMs: 60_000 });
      let acme: CreatedKey;
      let broke: CreatedKey;
      let before: { spentUsd: number; tier: string; shareUsed: number; budgetUsd: number };
      let requests: number;
      try {
        acme = await createKey(gw, { tenant: 'acme', budget: { budgetUsd: 5, period: 'day' } });
        broke = await createKey(gw, { tenant: 'broke' });
        for (let i = 0; i < 5; i++) assert.equal((await chat(gw, acme.key, `spend ${i}`)).status, 200);
        const spentSoFar = gw.records.reduce((s, r) => s + r.costUsd, 0);
        // A budget set so that the spend so far is 40 %, past a notice threshold of 30 %.
        const set = await setBudget(gw, 'acme', { budgetUsd: Number((spentSoFar / 0.4).toFixed(9)), thresholds: { notice: 0.3 } });
        assert.equal(set.tier, 'notice');
        const res = await chat(gw, acme.key, 'one more', { max_tokens: 16 });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.headers.get('x-llm-budget-tier'), 'notice');

        assert.equal((await chat(gw, broke.key, 'spend')).status, 200);
        await setBudget(gw, 'broke', { budgetUsd: 0.000001 });
        assert.equal((await chat(gw, broke.key, 'refused')).status, 402);

        const state = (await gw.router.budgets.state('acme'))!;
        before = { spentUsd: state.spentUsd, tier: state.tier, shareUsed: state.shareUsed, budgetUsd: state.budgetUsd };
        assert.ok(near(before.spentUsd, gw.records.filter((r) => r.tenant === 'acme').reduce((s, r) => s + r.costUsd, 0)));
        requests = gw.records.length;
      } finally {
        await gw.close();
      }

      gw = await startGw(sim, { store });
      try {
        const after = (await gw.router.budgets.state('acme'))!;
        assert.ok(after, 'the stored budget was re-applied');
        assert.equal(after.budgetUsd, before.budgetUsd);
        assert.ok(near(after.spentUsd, before.spentUsd), `spent ${after.spentUsd} after, ${before.spentUsd} before`);
        assert.equal(after.tier, before.tier);
        assert.ok(Math.abs(after.shareUsed - before.shareUsed) < 1e-3);

        // The same key still works and the response carries the same budget position.
        const res = await chat(gw, acme.key, 'after the restart', { max_tokens: 16 });
        assert.equal(res.status, 200, res.text);
        assert.equal(res.headers.get('x-llm-budget-tier'), 'notice');
        assert.ok(Math.abs(Number(res.headers.get('x-llm-budget-used')) - before.shareUsed) < 1e-3);

        // Every record of the first run was written at close.
        const report = await call(gw.url, '/admin/report', { key: 'test-admin-key-0123456789abcdef' });
        assert.equal(report.json.totals.requests, requests + 1);

        // The key's own budget remembers its spend.
        const usage = await call(gw.url, '/v1/usage', { key: acme.key });
        assert.ok(near(usage.json.key.budget.spentUsd, usage.json.totals.costUsd), JSON.stringify(usage.json.key));

        // An exhausted tenant stays exhausted.
        const refused = await chat(gw, broke.key, 'still refused');
        assert.equal(refused.status, 402);
        assert.equal(refused.json.error.code, 'insufficient_quota');
      } finally {
        await gw.close();
      }
    });
  });
}

forEachStore(restartSuite);
