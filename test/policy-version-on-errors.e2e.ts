/**
 * x-llm-policy-version on the answers that are not successes: a call the
 * router refused before routing (an exhausted budget; the key scope, decided on the policy), one it
 * refused at planning (quality floor), one that failed upstream after routing,
 * on /v1/chat/completions and /v1/responses (plain and streamed), each naming
 * the version it ran under, the new one after a reload. A refusal made before
 * the router (a bad body) has no version: no policy decided it.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ADMIN_KEY, call, chat, createKey, gatewayForFile, setBudget, simFault, testPolicy, type Res } from './gateway-support/harness.js';

const ctx = gatewayForFile();
let key = '';

async function version(): Promise<string> {
  return (await call(ctx.gw.url, '/admin/policy', { key: ADMIN_KEY })).json.version as string;
}

function assertRefused(res: Res, status: number, code: string, policyVersion: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json.error.code, code);
  assert.equal(res.headers.get('x-llm-policy-version'), policyVersion);
  assert.ok(res.headers.get('x-llm-request-id'));
}

describe('x-llm-policy-version on refusals and failures', () => {
  before(async () => {
    key = (await createKey(ctx.gw, { tenant: 'versioned-errors' })).key;
  });

  test('chat completions: refused at planning, failed upstream, refused before routing, each under the version in force', async () => {
    const v1 = await version();
    // Key scope, decided on the policy before routing: the version it was decided under.
    const unknown = await chat(ctx.gw, key, 'hi', {}, { 'x-traffic-class': 'no-such-class' });
    assert.deepEqual([unknown.status, unknown.json.error.code, unknown.headers.get('x-llm-policy-version')], [400, 'unknown_traffic_class', v1]);
    const { key: narrow } = await createKey(ctx.gw, { tenant: 'versioned-errors', allowedClasses: ['general'] });
    const scoped = await chat(ctx.gw, narrow, 'hi', {}, { 'x-traffic-class': 'batch-summaries' });
    assert.equal(scoped.status, 403, scoped.text);
    assert.equal(scoped.headers.get('x-llm-policy-version'), v1);
    assertRefused(await chat(ctx.gw, key, 'hi', {}, { 'x-traffic-class': 'floored' }), 422, 'quality_floor_unmet', v1);
    const upstream = await chat(ctx.gw, key, `bad ${simFault('premium-a', { status: 400 })}`);
    assert.equal(upstream.status, 400, upstream.text);
    assert.equal(upstream.json.error.type, 'upstream_error');
    assert.equal(upstream.headers.get('x-llm-policy-version'), v1);

    const policy = testPolicy(ctx.sim.url);
    policy.classes['floored']!.route = ['standard-1', 'economy-1'];
    const put = await call(ctx.gw.url, '/admin/policy', { method: 'PUT', key: ADMIN_KEY, body: policy });
    assert.equal(put.status, 200, put.text);
    assert.notEqual(put.json.version, v1);
    assertRefused(await chat(ctx.gw, key, 'hi', {}, { 'x-traffic-class': 'floored' }), 422, 'quality_floor_unmet', put.json.version);

    const { key: broke } = await createKey(ctx.gw, { tenant: 'versioned-broke' });
    await setBudget(ctx.gw, 'versioned-broke', { budgetUsd: 1 });
    assert.equal((await chat(ctx.gw, broke, 'spend a little')).status, 200);
    await setBudget(ctx.gw, 'versioned-broke', { budgetUsd: 0.0000001 });
    const refused = await chat(ctx.gw, broke, 'hi');
    assert.equal(refused.status, 402, refused.text);
    assert.equal(refused.headers.get('x-llm-policy-version'), put.json.version);

    // Refused before the router: no policy decided it.
    const bad = await call(ctx.gw.url, '/v1/chat/completions', { key, body: { messages: 'nope' } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.headers.get('x-llm-policy-version'), null);
  });

  test('responses: a refusal and an upstream failure, plain and streamed, carry the version', async () => {
    const current = await version();
    const input = (text: string, stream = false) => ({ input: text, max_output_tokens: 16, ...(stream ? { stream: true } : {}) });
    const floored = { 'x-traffic-class': 'floored' };
    assertRefused(await call(ctx.gw.url, '/v1/responses', { key, body: input('hi'), headers: floored }), 422, 'quality_floor_unmet', current);
    assertRefused(await call(ctx.gw.url, '/v1/responses', { key, body: input('hi', true), headers: floored }), 422, 'quality_floor_unmet', current);
    const failed = await call(ctx.gw.url, '/v1/responses', { key, body: input(`bad ${simFault('premium-a', { status: 400 })}`) });
    assert.equal(failed.status, 400, failed.text);
    assert.equal(failed.headers.get('x-llm-policy-version'), current);
    const served = await call(ctx.gw.url, '/v1/responses', { key, body: input('fine') });
    assert.equal(served.status, 200, served.text);
    assert.equal(served.headers.get('x-llm-policy-version'), current);
  });
});
