/**
 * A policy reload meeting the state other features keep between calls: a
 * session pinned to a model the new policy took off its route (and out of the
 * catalog) moves on its next turn, the move and its reason said in the
 * header, the record and the explanation; a deferred call queued under one
 * policy runs its later tries under the policy in force then (a new route
 * serves it), and ends as failed, once, when its class was removed meanwhile;
 * a class added by PUT is usable by the Responses API on the next call.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { PolicyDocument } from '@llm-router/nestjs';
import { ADMIN_KEY, call, chat, createKey, FAST, gatewayForFile, simReply, sqliteStore, startGw, startSim, tempDir, testPolicy, until, type Gw, type SimulatorHandle } from './gateway-support/harness.js';

function putPolicy(gw: { url: string }, policy: PolicyDocument) {
  return call(gw.url, '/admin/policy', { method: 'PUT', key: ADMIN_KEY, body: policy });
}

describe('a session pinned to a model a reload removed', () => {
  const stickyPolicy = (simUrl: string, withSticky: boolean): PolicyDocument => {
    const policy = testPolicy(simUrl);
    if (withSticky) policy.models['sticky-x'] = { ...policy.models['premium-a']!, upstreamModel: 'up-sticky-x' };
    policy.classes['sticky'] = { criticality: 'standard', route: withSticky ? ['sticky-x', 'premium-b'] : ['premium-b'], retriesPerTarget: 0, session: { affinity: true }, ...FAST };
    return policy;
  };
  const ctx = gatewayForFile((sim) => ({ router: { policy: stickyPolicy(sim.url, true) } }));

  test('the next turn moves to the new route, says why (the policy it ran under), and never fails', async () => {
    const { key } = await createKey(ctx.gw, { tenant: 'reload-session' });
    const headers = { 'x-traffic-class': 'sticky', 'x-session-id': `reload-${randomBytes(4).toString('hex')}` };
    const first = await chat(ctx.gw, key, 'first', {}, headers);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('x-llm-model'), 'sticky-x');

    const put = await putPolicy(ctx.gw, stickyPolicy(ctx.sim.url, false));
    assert.equal(put.status, 200, put.text);
    const reason = new RegExp(`^sticky-x is not on the "sticky" route under policy ${put.json.version}$`);

    const explained = await call(ctx.gw.url, '/v1/routing/explain', { key, body: { messages: [{ role: 'user', content: 'second' }] }, headers });
    assert.equal(explained.status, 200, explained.text);
    assert.deepEqual([explained.json.session.pinnedTarget, explained.json.session.holds, explained.json.session.movesTo], ['sticky-x', false, 'premium-b']);
    assert.match(explained.json.session.reason, reason);

    const second = await chat(ctx.gw, key, 'second', {}, headers);
    assert.equal(second.status, 200, second.text);
    assert.equal(second.headers.get('x-llm-model'), 'premium-b');
    assert.equal(second.headers.get('x-llm-policy-version'), put.json.version);
    assert.match(second.headers.get('x-llm-session-moved') ?? '', /^sticky-x -> premium-b; sticky-x is not on the "sticky" route under policy /);
    const record = ctx.gw.records.find((r) => r.requestId === second.headers.get('x-llm-request-id'))!;
    assert.equal(record.sessionMove?.from, 'sticky-x');
    assert.match(record.sessionMove?.reason ?? '', reason);

    // Moved once: the session stays on its new target silently.
    const third = await chat(ctx.gw, key, 'third', {}, headers);
    assert.equal(third.status, 200, third.text);
    assert.equal(third.headers.get('x-llm-model'), 'premium-b');
    assert.equal(third.headers.get('x-llm-session-moved'), null);
  });
});

describe('a class added by PUT, used at once', () => {
  const ctx = gatewayForFile();

  test('by the Responses API on the next call', async () => {
    const { key } = await createKey(ctx.gw, { tenant: 'reload-responses' });
    const body = { input: 'hello', max_output_tokens: 16 };
    const headers = { 'x-traffic-class': 'added-by-put' };
    const before = await call(ctx.gw.url, '/v1/responses', { key, body, headers });
    assert.equal(before.status, 400, before.text);
    assert.equal(before.json.error.code, 'unknown_traffic_class');
    const policy = testPolicy(ctx.sim.url);
    policy.classes['added-by-put'] = { criticality: 'standard', route: ['economy-1'], ...FAST };
    const put = await putPolicy(ctx.gw, policy);
    assert.equal(put.status, 200, put.text);
    const served = await call(ctx.gw.url, '/v1/responses', { key, body, headers });
    assert.equal(served.status, 200, served.text);
    assert.deepEqual([served.headers.get('x-llm-traffic-class'), served.headers.get('x-llm-model'), served.headers.get('x-llm-policy-version')], ['added-by-put', 'economy-1', put.json.version]);
    assert.equal(served.json.model, 'economy-1');
  });
});

describe('a deferred call across a reload', () => {
  const DEFER_FAST = { deferBackoff: { baseMs: 100, maxMs: 300, jitter: false }, deferDeadlineMs: 60_000 } as const;
  const deferring = (simUrl: string, route: string[] | null): PolicyDocument => {
    const policy = testPolicy(simUrl);
    if (route) policy.classes['automation'] = { criticality: 'internal_automation', route, retriesPerTarget: 0, ...FAST, ...DEFER_FAST };
    return policy;
  };
  let sim: SimulatorHandle;
  let gw: Gw;
  let dir: ReturnType<typeof tempDir>;
  let key = '';
  const getDeferred = (id: string) => call(gw.url, `/v1/deferred/${id}`, { key });
  const upstreamCalls = async (text: string) => {
    const { requests } = (await (await fetch(`${sim.url}/_sim/requests`)).json()) as { requests: unknown[] };
    return requests.filter((r) => JSON.stringify(r).includes(text)).length;
  };
  /** A call deferred under the current policy: both premium targets fail (the faults stay). */
  const deferOne = async (prompt: string) => {
    const res = await chat(gw, key, prompt, {}, { 'x-traffic-class': 'automation' });
    assert.equal(res.status, 202, res.text);
    return res.json.id as string;
  };

  before(async () => {
    dir = tempDir();
    sim = await startSim();
    gw = await startGw(sim, { store: sqliteStore(dir.path), router: { policy: deferring(sim.url, ['premium-a', 'premium-b']) } });
    key = (await createKey(gw, { tenant: 'reload-deferred' })).key;
    sim.addFaults([{ match: { model: 'up-premium-a' }, fault: { error: 'server_error' } }, { match: { model: 'up-premium-b' }, fault: { error: 'server_error' } }]);
  });
  after(async () => {
    await gw?.close();
    await sim?.close();
    dir?.remove();
  });

  test('its later tries run under the policy in force then: a new route serves it', async () => {
    const prompt = `rerouted ${randomBytes(4).toString('hex')}`;
    const id = await deferOne(prompt);
    await until(async () => (await getDeferred(id)).json.attempts >= 2, 'a later try under the first policy', 10_000);
    const put = await putPolicy(gw, deferring(sim.url, ['standard-1']));
    assert.equal(put.status, 200, put.text);
    await until(async () => (await getDeferred(id)).json.status === 'completed', 'the call completed on the new route', 10_000);
    const done = (await getDeferred(id)).json;
    assert.equal(done.response.body.choices[0].message.content, simReply('standard-1', prompt));
    // Put the first route back for the next test.
    assert.equal((await putPolicy(gw, deferring(sim.url, ['premium-a', 'premium-b']))).status, 200);
  });

  test('its class removed meanwhile: it ends as failed, with the reason, and is not tried again', async () => {
    const prompt = `orphaned ${randomBytes(4).toString('hex')}`;
    const id = await deferOne(prompt);
    await until(async () => (await getDeferred(id)).json.attempts >= 2, 'a later try under the first policy', 10_000);
    const put = await putPolicy(gw, deferring(sim.url, null));
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.json.changes.classes.removed, ['automation']);
    await until(async () => (await getDeferred(id)).json.status === 'failed', 'the call failed', 10_000);
    const failed = (await getDeferred(id)).json;
    assert.equal(failed.next_attempt_at, null);
    assert.equal(failed.last_error.status_code, 400);
    assert.equal(failed.last_error.error.code, 'unknown_traffic_class');
    assert.match(failed.last_error.error.message, /automation/);
    const calls = await upstreamCalls(prompt);
    // Three backoffs' worth of waiting: no try after it failed.
    await new Promise((r) => setTimeout(r, 900));
    assert.equal(await upstreamCalls(prompt), calls);
  });
});
