/**
 * POST /v1/routing/explain against the real call, scenario by scenario: what
 * explain says (first target, exclusions, refusal) is what
 * /v1/chat/completions then does with the same key, headers and body. Explain
 * itself calls no provider (the simulator's counters), books no spend (the
 * tenant's budget) and leaves no routing record; `x-llm-dry-run` on a chat
 * completion is the same explanation.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { ADMIN_KEY, call, chat, createKey, gatewayForFile, setBudget, simFault, testPolicy } from './gateway-support/harness.js';

const ctx = gatewayForFile((sim) => {
  const policy = testPolicy(sim.url);
  // premium-b sees images; circuits open on the first failure.
  policy.models['premium-b']!.capabilities = ['tools', 'json', 'streaming', 'vision'];
  policy.classes['titles'] = { criticality: 'nonessential', route: ['premium-a', 'standard-1'], retriesPerTarget: 0 };
  policy.classes['fragile'] = { criticality: 'standard', route: ['economy-1', 'standard-1'], retriesPerTarget: 0 };
  // A class with session affinity on models of its own (their circuits opened by the session scenario alone).
  policy.models['sticky-a'] = { ...policy.models['premium-a']!, upstreamModel: 'up-sticky-a' };
  policy.models['sticky-b'] = { ...policy.models['premium-b']!, upstreamModel: 'up-sticky-b' };
  policy.classes['sticky'] = { criticality: 'standard', route: ['sticky-a', 'sticky-b'], retriesPerTarget: 0, session: { affinity: true } };
  policy.circuit = { failureThreshold: 1, cooldownMs: 600_000 };
  return { router: { policy } };
});

interface Scenario {
  readonly body: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

let key = '';
const TENANT = 'explain-tenant';

function explain({ body, headers = {} }: Scenario) {
  return call(ctx.gw.url, '/v1/routing/explain', { key, body, headers });
}

function real({ body, headers = {} }: Scenario) {
  return call(ctx.gw.url, '/v1/chat/completions', { key, body, headers });
}

async function upstreamCalls(): Promise<number> {
  return (await call(ctx.sim.url, '/_sim/stats')).json.requests as number;
}

async function spend(): Promise<{ spentUsd: number; reservedUsd: number }> {
  const b = (await call(ctx.gw.url, `/admin/tenants/${TENANT}/budget`, { key: ADMIN_KEY })).json;
  return { spentUsd: b.spentUsd, reservedUsd: b.reservedUsd };
}

/** Explain, checked to have called no one, spent nothing and left no record; then the real call. */
async function explainThenCall(scenario: Scenario): Promise<{ explained: any; served: Awaited<ReturnType<typeof real>> }> {
  const calls = await upstreamCalls();
  const spent = await spend();
  const records = ctx.gw.records.length;
  const explained = await explain(scenario);
  assert.equal(explained.status, 200, explained.text);
  assert.equal(await upstreamCalls(), calls, 'explain made no upstream call');
  assert.deepEqual(await spend(), spent, 'explain booked and reserved nothing');
  assert.equal(ctx.gw.records.length, records, 'explain left no routing record');
  const served = await real(scenario);
  return { explained: explained.json, served };
}

const ask = (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ messages: [{ role: 'user', content }], max_tokens: 16, ...extra });

describe('explain agrees with the real call', () => {
  before(async () => {
    key = (await createKey(ctx.gw, { tenant: TENANT })).key;
    await setBudget(ctx.gw, TENANT, { budgetUsd: 100 });
  });

  test('a healthy route: the first target is the one that serves; needs, floor, worst case, failure rules', async () => {
    const { explained, served } = await explainThenCall({ body: ask('hello', { response_format: { type: 'json_object' } }) });
    assert.equal(served.status, 200, served.text);
    assert.equal(explained.firstTarget, served.headers.get('x-llm-model'));
    assert.deepEqual(explained.trafficClass, { name: 'general', criticality: 'standard', source: "the API key's default class" });
    assert.deepEqual([explained.needs.json, explained.needs.tools, explained.needs.vision, explained.needs.stream], [true, false, false, false]);
    assert.ok(explained.needs.estimatedPromptTokens > 0);
    assert.deepEqual(explained.targets.map((t: any) => [t.model, t.kept]), [['premium-a', true], ['premium-b', true]]);
    assert.ok(explained.targets.every((t: any) => t.worstCaseUsd > 0));
    assert.equal(explained.budget.tier, 'normal');
    assert.match(explained.onFailure.transient, /switch to the next candidate/);
    assert.match(explained.onFailure.invalid_request, /fail at once/);
    assert.equal(explained.policyVersion, served.headers.get('x-llm-policy-version'));
  });

  test('a floor that excludes everything: the same 422 refusal', async () => {
    const { explained, served } = await explainThenCall({ body: ask('hi'), headers: { 'x-traffic-class': 'floored' } });
    assert.equal(served.status, 422, served.text);
    assert.deepEqual([explained.refusal.status, explained.refusal.category], [422, 'quality_floor_unmet']);
    assert.deepEqual(explained.targets.map((t: any) => [t.model, t.excludedBy]), [['standard-1', 'quality_floor']]);
    assert.equal(explained.firstTarget, null);
  });

  test('a pinned model below the floor: excluded as requested, the same other model serves', async () => {
    const { explained, served } = await explainThenCall({ body: ask('hi', { model: 'standard-1' }), headers: { 'x-traffic-class': 'support-chat' } });
    assert.equal(served.status, 200, served.text);
    const pinned = explained.targets.find((t: any) => t.model === 'standard-1');
    assert.deepEqual([pinned.kept, pinned.requested, pinned.excludedBy], [false, true, 'quality_floor']);
    assert.equal(explained.firstTarget, served.headers.get('x-llm-model'));
    assert.match(served.headers.get('x-llm-requested-model-excluded') ?? '', /^standard-1: /);
  });

  test('a vision request: the models without vision excluded, the same one serves', async () => {
    const image = { messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }], max_tokens: 16 };
    const { explained, served } = await explainThenCall({ body: image });
    assert.equal(served.status, 200, served.text);
    assert.equal(explained.needs.vision, true);
    const a = explained.targets.find((t: any) => t.model === 'premium-a');
    assert.deepEqual([a.kept, a.excludedBy], [false, 'capability']);
    assert.equal(explained.firstTarget, 'premium-b');
    assert.equal(served.headers.get('x-llm-model'), 'premium-b');
  });

  test('the downgrade tier: the cheaper route, as the call takes it', async () => {
    // The downgrade threshold is crossed by the first cent spent.
    const { key: own } = await createKey(ctx.gw, { tenant: 'explain-downgrade' });
    await setBudget(ctx.gw, 'explain-downgrade', { budgetUsd: 1, thresholds: { notice: 0.000001, downgrade: 0.000001, restrict: 0.99 } });
    const warm = await call(ctx.gw.url, '/v1/chat/completions', { key: own, body: ask('warm up'), headers: { 'x-traffic-class': 'titles' } });
    assert.equal(warm.status, 200, warm.text);
    const scenario = { body: ask('a title please'), headers: { 'x-traffic-class': 'titles' } };
    const explained = (await call(ctx.gw.url, '/v1/routing/explain', { key: own, ...scenario })).json;
    const served = await call(ctx.gw.url, '/v1/chat/completions', { key: own, ...scenario });
    assert.equal(served.status, 200, served.text);
    assert.equal(explained.budget.tier, 'downgrade');
    assert.match(explained.budget.effect, /cheaper route/);
    assert.equal(explained.firstTarget, 'standard-1');
    assert.equal(served.headers.get('x-llm-model'), 'standard-1');
    assert.equal(served.headers.get('x-llm-budget-tier'), 'downgrade');
  });

  test('an exhausted budget: the same 402', async () => {
    const { key: own } = await createKey(ctx.gw, { tenant: 'explain-exhausted' });
    await setBudget(ctx.gw, 'explain-exhausted', { budgetUsd: 1 });
    assert.equal((await call(ctx.gw.url, '/v1/chat/completions', { key: own, body: ask('spend a little') })).status, 200);
    await setBudget(ctx.gw, 'explain-exhausted', { budgetUsd: 0.0000001 });
    const explained = (await call(ctx.gw.url, '/v1/routing/explain', { key: own, body: ask('more') })).json;
    const served = await call(ctx.gw.url, '/v1/chat/completions', { key: own, body: ask('more') });
    assert.equal(served.status, 402, served.text);
    assert.deepEqual([explained.refusal.status, explained.refusal.code, explained.budget], [402, served.json.error.code, null]);
  });

  test('a key-scope refusal: the same 403', async () => {
    const { key: narrow } = await createKey(ctx.gw, { tenant: TENANT, allowedClasses: ['general'] });
    const scenario = { body: ask('hi'), headers: { 'x-traffic-class': 'batch-summaries' } };
    const explained = (await call(ctx.gw.url, '/v1/routing/explain', { key: narrow, ...scenario })).json;
    const served = await call(ctx.gw.url, '/v1/chat/completions', { key: narrow, ...scenario });
    assert.equal(served.status, 403);
    assert.deepEqual([explained.refusal.status, explained.refusal.code], [403, served.json.error.code]);
  });

  test('an open circuit: the target skipped without a call, the same fallback serves', async () => {
    // One failure opens economy-1's circuit (threshold 1).
    const opened = await real({ body: ask(`open it ${simFault('economy-1', { status: 503 })}`), headers: { 'x-traffic-class': 'fragile' } });
    assert.equal(opened.headers.get('x-llm-model'), 'standard-1', opened.text);
    const { explained, served } = await explainThenCall({ body: ask('after'), headers: { 'x-traffic-class': 'fragile' } });
    const economy = explained.targets.find((t: any) => t.model === 'economy-1');
    assert.deepEqual([economy.kept, economy.excludedBy, economy.circuit], [false, 'circuit_open', 'open']);
    assert.equal(explained.firstTarget, 'standard-1');
    assert.equal(served.headers.get('x-llm-model'), 'standard-1');
    const record = ctx.gw.records.find((r) => r.requestId === served.headers.get('x-llm-request-id'))!;
    assert.deepEqual(record.attempts.map((a) => [a.model, a.outcome, a.category ?? null]), [['economy-1', 'skipped', 'circuit_open'], ['standard-1', 'success', null]]);
  });

  test('x-llm-dry-run on a chat completion: the explanation, no upstream call, no spend', async () => {
    const calls = await upstreamCalls();
    const spent = await spend();
    const dry = await call(ctx.gw.url, '/v1/chat/completions', { key, body: ask('dry'), headers: { 'x-llm-dry-run': 'true' } });
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.headers.get('x-llm-dry-run'), 'explained');
    assert.equal(dry.json.firstTarget, 'premium-a');
    assert.equal(await upstreamCalls(), calls);
    assert.deepEqual(await spend(), spent);
    const bad = await call(ctx.gw.url, '/v1/routing/explain', { key, body: { messages: 'nope' } });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json.error.type, 'invalid_request_error');
  });

  test("a session: its pin, whether it holds, and why it moves, read from the session store without writing it", async () => {
    const headers = { 'x-traffic-class': 'sticky', 'x-session-id': `explain-${randomUUID()}` };
    const { explained: fresh, served: first } = await explainThenCall({ body: ask('first turn'), headers });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual([fresh.session.pinnedTarget, fresh.session.holds, fresh.session.turns], [null, null, 0]);
    assert.equal(first.headers.get('x-llm-model'), 'sticky-a');

    const { explained: pinned, served: second } = await explainThenCall({ body: ask('second turn'), headers });
    assert.deepEqual([pinned.session.pinnedTarget, pinned.session.holds, pinned.session.movesTo, pinned.session.turns], ['sticky-a', true, null, 1]);
    assert.equal(pinned.firstTarget, 'sticky-a');
    assert.equal(second.headers.get('x-llm-model'), 'sticky-a');
    assert.equal(second.headers.get('x-llm-session-moved'), null);

    // One failure outside the session opens sticky-a's circuit (threshold 1).
    const opened = await real({ body: ask(`open it ${simFault('sticky-a', { status: 503 })}`), headers: { 'x-traffic-class': 'sticky' } });
    assert.equal(opened.headers.get('x-llm-model'), 'sticky-b', opened.text);
    const { explained: moving, served: third } = await explainThenCall({ body: ask('third turn'), headers });
    // Two turns served: the explanations in between wrote nothing to the session.
    assert.deepEqual([moving.session.pinnedTarget, moving.session.holds, moving.session.movesTo, moving.session.turns], ['sticky-a', false, 'sticky-b', 2]);
    assert.match(moving.session.reason, /^sticky-a: circuit open/);
    assert.equal(moving.firstTarget, 'sticky-b');
    assert.equal(third.headers.get('x-llm-model'), 'sticky-b');
    assert.match(third.headers.get('x-llm-session-moved') ?? '', /^sticky-a -> sticky-b; /);

    // Without a session header the explanation has no session part.
    assert.equal((await explain({ body: ask('no session'), headers: { 'x-traffic-class': 'sticky' } })).json.session, null);
  });
});
