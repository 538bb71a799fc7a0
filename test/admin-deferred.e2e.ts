/**
 * `GET /admin/deferred` on both stores: deferred calls across tenants, made
 * for real (every target failing on an internal-automation class), listed
 * newest first, filtered by tenant and status, paged with `after`/`limit`;
 * bad query values are OpenAI-shaped 400s, and a tenant's key is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PolicyDocument } from '@llm-router/nestjs';
import { ADMIN_KEY, call, chat, createKey, FAST, forEachStore, startGw, startSim, testPolicy, until, type Gw, type SimulatorHandle, type SuiteStore } from './gateway-support/harness.js';
import { assertBadQueries, assertListPage, ids } from './support/admin-listing.js';

function deferringPolicy(simUrl: string): PolicyDocument {
  const policy = testPolicy(simUrl);
  const automation = { criticality: 'internal_automation' as const, route: ['premium-a', 'premium-b'], retriesPerTarget: 0, ...FAST };
  return {
    ...policy,
    classes: {
      ...policy.classes,
      // Tried again a minute later: pending for the whole suite.
      'automation-slow': { ...automation, deferBackoff: { baseMs: 60_000, maxMs: 60_000, jitter: false }, deferDeadlineMs: 600_000 },
      // Tried again within 100 ms: completes once the simulator heals.
      'automation-fast': { ...automation, deferBackoff: { baseMs: 100, maxMs: 100, jitter: false }, deferDeadlineMs: 60_000 },
    },
  };
}

function listingSuite(name: string, storeFor: () => Promise<SuiteStore>) {
  describe(`GET /admin/deferred on ${name}`, () => {
    let sim: SimulatorHandle;
    let gw: Gw;
    let skip: string | undefined;
    let cleanup: () => Promise<void> = async () => undefined;
    let opsKey = '';
    /** The ids in the order they were deferred. */
    const slowOps: string[] = [];
    let slowOther = '';
    let fastOps = '';

    const defer = async (key: string, cls: string): Promise<string> => {
      const before = Date.now();
      const res = await chat(gw, key, `work for ${cls}`, {}, { 'x-traffic-class': cls });
      assert.equal(res.status, 202, res.text);
      // The next call is created at a later millisecond: newest-first order is then well defined.
      await until(() => Date.now() > before + 1, 'the clock to move');
      return res.json.id as string;
    };

    before(async () => {
      const store = await storeFor();
      if ('skip' in store) {
        skip = store.skip;
        return;
      }
      cleanup = store.cleanup;
      sim = await startSim();
      gw = await startGw(sim, { store: store.store, router: { policy: deferringPolicy(sim.url) } });
      opsKey = (await createKey(gw, { tenant: 'ops' })).key;
      const otherKey = (await createKey(gw, { tenant: 'other' })).key;
      sim.addFaults({ fault: { error: 'server_error' } });
      slowOps.push(await defer(opsKey, 'automation-slow'));
      slowOther = await defer(otherKey, 'automation-slow');
      slowOps.push(await defer(opsKey, 'automation-slow'));
      fastOps = await defer(opsKey, 'automation-fast');
      slowOps.push(await defer(opsKey, 'automation-slow'));
      assert.equal((await fetch(`${sim.url}/_sim/faults`, { method: 'DELETE' })).status, 200);
      await until(async () => (await admin(`?status=completed`)).json.data.length === 1, 'the fast call completed', 10_000);
    });
    after(async () => {
      await gw?.close();
      await sim?.close();
      await cleanup();
    });

    const admin = (query: string, key = ADMIN_KEY) => call(gw.url, `/admin/deferred${query}`, { key });

    test('every tenant, newest first, each with its state', async (t) => {
      if (skip) return t.skip(skip);
      const all = await admin('');
      assertListPage(all, [slowOps[2], fastOps, slowOps[1], slowOther, slowOps[0]]);

      const pending = all.json.data[0];
      assert.equal(pending.object, 'deferred.chat.completion');
      assert.equal(pending.tenant, 'ops');
      assert.equal(pending.traffic_class, 'automation-slow');
      assert.equal(pending.status, 'pending');
      assert.equal(pending.reason, 'route_exhausted');
      assert.equal(pending.attempts, 1);
      assert.ok(pending.next_attempt_at >= pending.created_at + 59, 'tried again a minute after it was deferred');
      assert.ok(pending.updated_at >= pending.created_at);
      assert.equal(pending.finished_at, null);
      assert.equal(pending.last_error.error.code, 'route_exhausted');
      assert.ok(pending.last_error.status_code >= 500);
      assert.equal('request' in pending || 'response' in pending || 'context' in pending, false, 'neither the prompt nor the answer');

      const done = all.json.data[1];
      assert.equal(done.status, 'completed');
      assert.ok(done.attempts >= 2);
      assert.equal(done.next_attempt_at, null);
      assert.equal(typeof done.finished_at, 'number');
    });

    test('tenant and status filters, alone and together', async (t) => {
      if (skip) return t.skip(skip);
      assert.deepEqual(ids(await admin('?tenant=other')), [slowOther]);
      assert.deepEqual(ids(await admin('?status=completed')), [fastOps]);
      assert.deepEqual(ids(await admin('?tenant=ops&status=pending')), [...slowOps].reverse());
      assert.deepEqual(ids(await admin('?status=expired')), []);
      assert.deepEqual(ids(await admin('?tenant=nobody')), []);
    });

    test('after/limit pages cover the listing once, in order', async (t) => {
      if (skip) return t.skip(skip);
      const seen: string[] = [];
      let query = '?limit=2';
      const pages: boolean[] = [];
      for (;;) {
        const page = await admin(query);
        assert.equal(page.status, 200, page.text);
        assert.ok(page.json.data.length <= 2);
        seen.push(...ids(page));
        pages.push(page.json.has_more);
        if (!page.json.has_more) break;
        query = `?limit=2&after=${page.json.last_id}`;
      }
      assert.deepEqual(pages, [true, true, false]);
      assert.deepEqual(seen, ids(await admin('')));
      const filtered = await admin(`?tenant=ops&status=pending&limit=1&after=${slowOps[2]}`);
      assert.deepEqual(ids(filtered), [slowOps[1]]);
      assert.equal(filtered.json.has_more, true);
    });

    test('bad values are OpenAI-shaped 400s naming the parameter; a tenant key is refused', async (t) => {
      if (skip) return t.skip(skip);
      await assertBadQueries(admin, [
        ['?status=sleeping', 'status'],
        ['?limit=0', 'limit'],
        ['?limit=201', 'limit'],
        ['?limit=two', 'limit'],
        ['?after=dfr_000000000000000000000000', 'after'],
        ['?colour=blue', null],
      ]);
      const asTenant = await admin('', opsKey);
      assert.equal(asTenant.status, 401, asTenant.text);
      assert.equal((await admin('', 'wrong')).status, 401);
    });
  });
}

forEachStore(listingSuite);
