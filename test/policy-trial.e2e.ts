/**
 * Trying a policy before it is live, on known traffic counted by hand:
 * POST /admin/policy/simulate plans stored records again under a candidate,
 * and a shadow policy (PUT/GET/DELETE /admin/policy/shadow) plans every real
 * request beside the live one. Neither calls a provider nor changes routing.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ADMIN_KEY, call, chat, createKey, gatewayForFile, testPolicy, until } from './gateway-support/harness.js';

const ctx = gatewayForFile();

/** The candidate: general's primary becomes premium-b, batch-summaries gets a premium floor (refused), floored loses its floor (served). */
function candidate() {
  const policy = testPolicy(ctx.sim.url);
  policy.classes['general']!.route = ['premium-b', 'premium-a'];
  policy.classes['batch-summaries']!.qualityFloor = { tier: 'premium' };
  delete policy.classes['floored']!.qualityFloor;
  return policy;
}

/** Known traffic: 3 general (served by premium-a), 2 batch-summaries (standard-1), 1 floored (refused 422). */
async function knownTraffic(key: string): Promise<void> {
  for (let i = 0; i < 3; i++) assert.equal((await chat(ctx.gw, key, `general ${i}`)).status, 200);
  for (let i = 0; i < 2; i++) assert.equal((await chat(ctx.gw, key, `batch ${i}`, {}, { 'x-traffic-class': 'batch-summaries' })).status, 200);
  assert.equal((await chat(ctx.gw, key, 'floored', {}, { 'x-traffic-class': 'floored' })).status, 422);
}

describe('trying a policy', () => {
  let key = '';
  before(async () => {
    key = (await createKey(ctx.gw, { tenant: 'trial' })).key;
  });

  test('simulate on a known recorded set: the right counts, a sample, no upstream call, the live policy untouched', async () => {
    const from = new Date().toISOString();
    await knownTraffic(key);
    const version = (await call(ctx.gw.url, '/admin/policy', { key: ADMIN_KEY })).json.version;
    const simulate = () => call(ctx.gw.url, '/admin/policy/simulate', { key: ADMIN_KEY, body: { policy: candidate(), from } });
    await until(async () => (await simulate()).json?.records === 6, 'the six records stored');
    const calls = (await call(ctx.sim.url, '/_sim/stats')).json.requests;
    const res = await simulate();
    assert.equal(res.status, 200, res.text);
    const s = res.json.summary;
    assert.deepEqual(
      [s.replayed, s.notReplayable, s.primaryChanged, s.routeChanged, s.nowRefused.total, s.nowRefused.byReason, s.nowServed, s.unchanged],
      [6, 0, 3, 0, 2, { quality_floor_unmet: 2 }, 1, 0],
    );
    // The three general calls now cost the same (same prices); the two batch calls are refused: cheaper overall.
    assert.ok(s.estimatedCostUsd.difference < 0, JSON.stringify(s.estimatedCostUsd));
    assert.equal(res.json.sample.length, 6);
    const moved = res.json.sample.find((c: any) => c.divergence === 'primary_changed');
    assert.deepEqual([moved.before.route[0], moved.after.route[0]], ['premium-a', 'premium-b']);
    const served = res.json.sample.find((c: any) => c.divergence === 'now_served');
    assert.deepEqual([served.trafficClass, served.before.refused, served.after.route], ['floored', 'quality_floor_unmet', ['standard-1']]);
    assert.equal((await call(ctx.sim.url, '/_sim/stats')).json.requests, calls, 'no upstream call');
    assert.equal((await call(ctx.gw.url, '/admin/policy', { key: ADMIN_KEY })).json.version, version, 'the live policy is untouched');

    const last2 = await call(ctx.gw.url, '/admin/policy/simulate', { key: ADMIN_KEY, body: { policy: candidate(), from, last: 2, sample: 0 } });
    assert.deepEqual([last2.json.records, last2.json.sample.length], [2, 0]);
  });

  test('simulate checks each key\'s scope under the candidate: a route now reaching a model outside the key is refused', async () => {
    const from = new Date().toISOString();
    const { key: narrow } = await createKey(ctx.gw, { tenant: 'trial-scope', allowedModels: ['premium-a', 'premium-b'] });
    assert.equal((await chat(ctx.gw, narrow, 'inside the key')).status, 200);
    const policy = testPolicy(ctx.sim.url);
    policy.classes['general']!.route = ['premium-a', 'premium-b', 'standard-1'];
    const simulate = () => call(ctx.gw.url, '/admin/policy/simulate', { key: ADMIN_KEY, body: { policy, from } });
    await until(async () => (await simulate()).json?.records === 1, 'the record stored');
    const res = await simulate();
    assert.deepEqual([res.json.summary.nowRefused.total, res.json.summary.nowRefused.byReason], [1, { key_scope: 1 }]);
    assert.equal(res.json.sample[0].after.refused.code, 'traffic_class_not_allowed');
  });

  test('an invalid candidate or request: 400 with every problem', async () => {
    const bad = testPolicy(ctx.sim.url) as any;
    bad.classes.general.route = ['nowhere'];
    bad.models['premium-a'].tier = 'gold';
    const res = await call(ctx.gw.url, '/admin/policy/simulate', { key: ADMIN_KEY, body: { policy: bad } });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.json.error.issues.map((i: any) => i.path).sort(), ['classes.general.route[0]', 'models.premium-a.tier']);
    const noPolicy = await call(ctx.gw.url, '/admin/policy/simulate', { key: ADMIN_KEY, body: { last: 5 } });
    assert.equal(noPolicy.status, 400, noPolicy.text);
    const badRange = await call(ctx.gw.url, '/admin/policy/simulate', { key: ADMIN_KEY, body: { policy: candidate(), from: 'yesterday-ish' } });
    assert.equal(badRange.status, 400, badRange.text);
  });

  test('a shadow policy: its divergences on real traffic match a hand count; routing stays the live one', async () => {
    assert.equal((await call(ctx.gw.url, '/admin/policy/shadow', { key: ADMIN_KEY })).status, 404);
    const set = await call(ctx.gw.url, '/admin/policy/shadow', { method: 'PUT', key: ADMIN_KEY, body: candidate() });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.json.requests, 0);
    await knownTraffic(key);
    const report = (await call(ctx.gw.url, '/admin/policy/shadow', { key: ADMIN_KEY })).json;
    assert.deepEqual(
      [report.requests, report.divergent, report.primaryChanged, report.nowRefused.total, report.nowServed, report.unchanged],
      [6, 6, 3, 2, 1, 0],
    );
    // The live policy served as before: general on premium-a.
    const live = await chat(ctx.gw, key, 'still live');
    assert.equal(live.headers.get('x-llm-model'), 'premium-a');
    const removed = await call(ctx.gw.url, '/admin/policy/shadow', { method: 'DELETE', key: ADMIN_KEY });
    assert.deepEqual([removed.status, removed.json.last.requests], [200, 7]);
    assert.equal((await call(ctx.gw.url, '/admin/policy/shadow', { key: ADMIN_KEY })).status, 404);
  });
});
