/**
 * Usage and the admin report against known traffic, on both stores: the
 * embedded SQLite file and the real PostgreSQL (a schema of its own per run,
 * dropped after; skipped with the reason when PostgreSQL is unreachable,
 * except under CI=true). Every figure is checked against the routing records
 * the router emitted, aggregated here independently of the SQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { RoutingRecord } from '@llm-router/nestjs';
import type { StoreConfig } from '../apps/gateway/src/index.js';
import {
  ADMIN_KEY,
  PG_URL,
  call,
  chat,
  createKey,
  postgresOrSkip,
  setBudget,
  simFault,
  sqliteStore,
  startGw,
  startSim,
  tempDir,
  type Gw,
  type SimulatorHandle,
} from './gateway-support/harness.js';

const close = (a: number, b: number) => Math.abs(a - b) < 1e-8;

/** Nearest-rank percentile, as the store computes it. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function byKey(rows: any[]): Record<string, any> {
  return Object.fromEntries(rows.map((r) => [String(r.key), r]));
}

function reportSuite(name: string, storeFor: () => Promise<{ store: StoreConfig; verify?: (gw: Gw, secrets: string[]) => Promise<void>; cleanup(): Promise<void> } | { skip: string }>) {
  describe(`usage and report on ${name}`, () => {
    let sim: SimulatorHandle;
    let gw: Gw;
    let cleanup: () => Promise<void> = async () => undefined;
    let verify: ((gw: Gw, secrets: string[]) => Promise<void>) | undefined;
    let skip: string | undefined;
    const keys: Record<string, string> = {};
    let records: RoutingRecord[] = [];

    before(async () => {
      const store = await storeFor();
      if ('skip' in store) {
        skip = store.skip;
        return;
      }
      cleanup = store.cleanup;
      verify = store.verify;
      sim = await startSim();
      gw = await startGw(sim, { store: store.store });
      for (const tenant of ['alpha', 'beta', 'gamma']) keys[tenant] = (await createKey(gw, { tenant })).key;

      // alpha: two general calls (the second falls back), a stream, a quality-floor refusal, a nonessential call with a feature.
      assert.equal((await chat(gw, keys.alpha, 'a1')).status, 200);
      const fb = await chat(gw, keys.alpha, `a2 ${simFault('premium-a', { error: 'overloaded' })}`);
      assert.equal(fb.headers.get('x-llm-fallback'), 'true');
      assert.equal((await chat(gw, keys.alpha, 'a3', { stream: true })).status, 200);
      assert.equal((await chat(gw, keys.alpha, 'a4', {}, { 'x-traffic-class': 'floored' })).status, 422);
      assert.equal((await chat(gw, keys.alpha, 'a5', {}, { 'x-traffic-class': 'cheap', 'x-feature': 'titles' })).status, 200);
      // beta: batch summaries, one falling back after a 500.
      assert.equal((await chat(gw, keys.beta, 'b1', {}, { 'x-traffic-class': 'batch-summaries', 'x-feature': 'digest' })).status, 200);
      const bfb = await chat(gw, keys.beta, `b2 ${simFault('standard-1', { status: 500 })}`, {}, { 'x-traffic-class': 'batch-summaries', 'x-feature': 'digest' });
      assert.equal(bfb.headers.get('x-llm-fallback'), 'true');
      // gamma: one call within budget, then the budget is cut below its spend: the next call is refused.
      await setBudget(gw, 'gamma', { budgetUsd: 1 });
      assert.equal((await chat(gw, keys.gamma, 'g1')).status, 200);
      const cut = await setBudget(gw, 'gamma', { budgetUsd: 0.000001 });
      assert.equal(cut.tier, 'exhausted');
      const refused = await chat(gw, keys.gamma, 'g2');
      assert.equal(refused.status, 402);
      assert.equal(refused.json.error.code, 'insufficient_quota');
      records = [...gw.records];
      assert.equal(records.length, 9);
    });
    after(async () => {
      await gw?.close();
      await sim?.close();
      await cleanup();
    });

    test('GET /v1/usage: the tenant\'s own spend and tokens by day, class, feature and model, with the fallback rate', async (t) => {
      if (skip) return t.skip(skip);
      const res = await call(gw.url, '/v1/usage', { key: keys.alpha });
      assert.equal(res.status, 200);
      const u = res.json;
      const mine = records.filter((r) => r.tenant === 'alpha');
      assert.equal(u.tenant, 'alpha');
      assert.equal(u.period.name, 'month');
      assert.equal(u.totals.requests, 5);
      assert.equal(u.totals.succeeded, 4);
      assert.equal(u.totals.failed, 1);
      assert.equal(u.totals.fallbacks, 1);
      assert.equal(u.totals.fallbackRate, 0.2);
      assert.equal(u.totals.promptTokens, mine.reduce((s, r) => s + r.promptTokens, 0));
      assert.equal(u.totals.completionTokens, mine.reduce((s, r) => s + r.completionTokens, 0));
      assert.ok(close(u.totals.costUsd, mine.reduce((s, r) => s + r.costUsd, 0)));
      assert.ok(u.totals.costUsd > 0);

      const classes = byKey(u.byClass);
      assert.deepEqual(Object.keys(classes).sort(), ['cheap', 'floored', 'general']);
      assert.equal(classes.general!.requests, 3);
      assert.equal(classes.general!.fallbacks, 1);
      assert.equal(classes.floored!.failed, 1);
      assert.equal(classes.floored!.costUsd, 0);
      assert.equal(byKey(u.byFeature).titles!.requests, 1);
      assert.equal(byKey(u.byFeature).null!.requests, 4);
      const models = byKey(u.byModel);
      assert.equal(models['premium-a']!.requests, 2);
      assert.equal(models['premium-b']!.requests, 1);
      assert.equal(models.null!.requests, 1);
      assert.deepEqual(u.byDay.map((d: { key: string }) => d.key), [new Date().toISOString().slice(0, 10)]);
      assert.equal(u.budget, null);
    });

    test('a tenant with a budget sees its position; the admin can read any tenant\'s usage', async (t) => {
      if (skip) return t.skip(skip);
      const gamma = await call(gw.url, '/v1/usage?period=all', { key: keys.gamma });
      assert.equal(gamma.json.totals.requests, 2);
      assert.equal(gamma.json.budget.tier, 'exhausted');
      assert.ok(close(gamma.json.budget.spentUsd, records.filter((r) => r.tenant === 'gamma').reduce((s, r) => s + r.costUsd, 0)));
      const beta = await call(gw.url, '/admin/tenants/beta/usage?period=day', { key: ADMIN_KEY });
      assert.equal(beta.status, 200);
      assert.equal(beta.json.totals.requests, 2);
      assert.equal(byKey(beta.json.byFeature).digest!.requests, 2);
      assert.equal(beta.json.totals.fallbacks, 1);
    });

    test('the admin report answers the review questions', async (t) => {
      if (skip) return t.skip(skip);
      const res = await call(gw.url, '/admin/report', { key: ADMIN_KEY });
      assert.equal(res.status, 200);
      const r = res.json;
      assert.equal(r.totals.requests, 9);
      assert.equal(r.totals.fallbacks, 2);
      assert.ok(close(r.totals.costUsd, records.reduce((s, x) => s + x.costUsd, 0)));

      // Fallback frequency per class and per (primary) provider.
      const fbClass = byKey(r.fallbacks.byClass);
      assert.deepEqual(
        { general: [fbClass.general!.requests, fbClass.general!.fallbacks], batch: [fbClass['batch-summaries']!.requests, fbClass['batch-summaries']!.fallbacks] },
        { general: [5, 1], batch: [2, 1] },
      );
      assert.equal(fbClass['batch-summaries']!.fallbackRate, 0.5);
      const fbProvider = byKey(r.fallbacks.byPrimaryProvider);
      // premium-a and standard-1 are both on `oa`: 2 of its primary calls fell back.
      assert.equal(fbProvider.oa!.fallbacks, 2);
      assert.deepEqual(r.fallbacks.servedByAfterFallback.map((x: { key: string; count: number }) => [x.key, x.count]), [['an', 2]]);

      // Failure categories: per attempt and provider, and per failed request.
      const attemptFailures = Object.fromEntries(r.failures.attemptsByProviderAndCategory.map((x: { provider: string; category: string; count: number }) => [`${x.provider}/${x.category}`, x.count]));
      assert.equal(attemptFailures['oa/transient'], 2);
      const requestFailures = Object.fromEntries(r.failures.requestsByCategory.map((x: { category: string; count: number }) => [x.category, x.count]));
      assert.deepEqual(requestFailures, { budget_exhausted: 1, quality_floor_unmet: 1 });

      // Cost distribution by tenant, class and model.
      const costTenant = byKey(r.cost.byTenant);
      for (const tenant of ['alpha', 'beta', 'gamma']) {
        assert.ok(close(costTenant[tenant]!.costUsd, records.filter((x) => x.tenant === tenant).reduce((s, x) => s + x.costUsd, 0)), tenant);
      }
      const shares = r.cost.byTenant.reduce((s: number, x: { share: number }) => s + x.share, 0);
      assert.ok(Math.abs(shares - 1) < 0.001);
      const costModel = byKey(r.cost.byModel);
      assert.ok(close(costModel['premium-b']!.costUsd, records.filter((x) => x.servedBy?.model === 'premium-b').reduce((s, x) => s + x.costUsd, 0)));
      assert.ok(close(byKey(r.cost.byClass)['batch-summaries']!.costUsd, records.filter((x) => x.trafficClass === 'batch-summaries').reduce((s, x) => s + x.costUsd, 0)));

      // Latency percentiles per class (successful requests), nearest rank.
      for (const row of r.latencyMsByClass as { trafficClass: string; requests: number; p50: number; p99: number; max: number }[]) {
        const lat = records.filter((x) => x.trafficClass === row.trafficClass && x.outcome === 'success').map((x) => x.latencyMs).sort((a, b) => a - b);
        assert.equal(row.requests, lat.length, row.trafficClass);
        assert.ok(close(row.p50, percentile(lat, 50)), `${row.trafficClass} p50`);
        assert.ok(close(row.p99, percentile(lat, 99)), `${row.trafficClass} p99`);
        assert.ok(close(row.max, lat[lat.length - 1]!));
      }
      assert.deepEqual(r.latencyMsByClass.map((x: { trafficClass: string }) => x.trafficClass), ['batch-summaries', 'cheap', 'general']);

      // Quality-floor and budget refusals.
      assert.deepEqual(r.refusals.qualityFloor, [{ tenant: 'alpha', trafficClass: 'floored', count: 1 }]);
      assert.deepEqual(r.refusals.budget, [{ tenant: 'gamma', trafficClass: 'general', category: 'budget_exhausted', count: 1 }]);
      assert.deepEqual(
        r.budgets.map((b: { tenant: string; tier: string }) => [b.tenant, b.tier]),
        [['gamma', 'exhausted']],
      );
    });

    test('the store holds every record and its attempts, and keys only as hashes', async (t) => {
      if (skip) return t.skip(skip);
      await verify?.(gw, Object.values(keys));
    });
  });
}

reportSuite('SQLite', async () => {
  const dir = tempDir();
  return { store: sqliteStore(dir.path), cleanup: async () => dir.remove() };
});

reportSuite('PostgreSQL', async () => {
  const pgStore = await postgresOrSkip();
  if ('skip' in pgStore) return pgStore;
  return {
    store: pgStore.store,
    cleanup: pgStore.drop,
    verify: async (gw, secrets) => {
      await call(gw.url, '/admin/report', { key: ADMIN_KEY }); // flushes
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        const rows = await client.query(`SELECT COUNT(*)::int AS n, COUNT(DISTINCT request_id)::int AS ids FROM ${pgStore.schema}.llm_routing_records`);
        assert.deepEqual(rows.rows[0], { n: 9, ids: 9 });
        const attempts = await client.query(`SELECT COUNT(*)::int AS n FROM ${pgStore.schema}.llm_routing_attempts`);
        assert.equal(attempts.rows[0].n, gw.records.reduce((s, r) => s + r.attempts.length, 0));
        const stored = await client.query(`SELECT * FROM ${pgStore.schema}.llm_api_keys`);
        assert.equal(stored.rows.length, secrets.length);
        const dump = JSON.stringify(stored.rows);
        for (const secret of secrets) assert.ok(!dump.includes(secret.slice(18)), 'PostgreSQL holds a key in plain text');
        assert.ok(stored.rows.every((r) => /^[0-9a-f]{64}$/.test(r.key_hash)));
        const migrations = await client.query(`SELECT version FROM ${pgStore.schema}.llm_schema_migrations`);
        assert.deepEqual(migrations.rows.map((m) => m.version), [1, 2, 3, 4, 5]);
      } finally {
        await client.end();
      }
    },
  };
});
