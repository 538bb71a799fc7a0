/**
 * The gateway's HTTP face over real HTTP: routing headers, upstream errors
 * passed through in OpenAI shape, quality-floor refusals (422, no upstream
 * call), open circuits on GET /health, rate-limit exhaustion as 429.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fastClass, FMTS, other } from './support/policy.js';
import { gatewayPolicy, startGateway, type TestGateway } from './support/gateway.js';
import { getJson, postJson } from './support/http.js';
import { ask, simReply } from './support/router.js';
import { callsByModel, faultOn, resetSim, startSim, type SimulatorHandle } from './support/sim.js';

let sim: SimulatorHandle;
let gw: TestGateway;

const classes = () => ({
  general: fastClass('standard', ['oai-premium', 'ant-premium']),
  'anthropic-first': fastClass('standard', ['ant-premium', 'oai-premium']),
  floored: fastClass('standard', ['oai-standard', 'ant-economy'], { qualityFloor: { tier: 'premium' } }),
  economy: fastClass('nonessential', ['ant-economy']),
  critical: fastClass('critical', ['oai-premium2', 'ant-premium2'], { retriesPerTarget: 1 }),
});

before(async () => {
  sim = await startSim();
  gw = await startGateway(gatewayPolicy(sim.url, classes()));
});
after(async () => {
  await gw.close();
  await sim.close();
});
beforeEach(() => resetSim(sim));

const chat = (body: unknown, trafficClass?: string) =>
  postJson(`${gw.url}/v1/chat/completions`, body, trafficClass ? { 'x-traffic-class': trafficClass } : {});

test('success: the completion and x-llm-* routing headers name the serving target', async () => {
  const res = await chat(ask('hello'), 'general');
  assert.equal(res.status, 200);
  assert.equal(res.json.choices[0].message.content, simReply('oai-premium', 'hello'));
  assert.equal(res.headers['x-llm-model'], 'oai-premium');
  assert.equal(res.headers['x-llm-provider'], 'oai');
  assert.equal(res.headers['x-llm-fallback'], 'false');
  assert.equal(res.headers['x-llm-attempts'], '1');
  assert.match(String(res.headers['x-llm-request-id']), /\S+/);
  assert.deepEqual(callsByModel(sim), { 'oai-premium': 1 });
});

test('fallback: headers report the secondary, fallback true and every upstream call', async () => {
  sim.addFaults(faultOn('oai-premium', { status: 502 }));
  const res = await chat(ask('hello'), 'general');
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-llm-model'], 'ant-premium');
  assert.equal(res.headers['x-llm-provider'], 'ant');
  assert.equal(res.headers['x-llm-fallback'], 'true');
  assert.equal(res.headers['x-llm-attempts'], '3');
  assert.equal(res.json.choices[0].message.content, simReply('ant-premium', 'hello'));
  assert.deepEqual(callsByModel(sim), { 'oai-premium': 2, 'ant-premium': 1 });
});

for (const fmt of FMTS) {
  const klass = fmt === 'oai' ? 'general' : 'anthropic-first';
  const primary = `${fmt}-premium`;
  test(`invalid_request from the ${fmt} upstream: 400 at once with the upstream message, exactly one upstream call`, async () => {
    sim.addFaults(faultOn(primary, { error: 'invalid_request' }));
    const res = await chat(ask('hello'), klass);
    assert.equal(res.status, 400);
    assert.equal(
      res.json.error.message,
      fmt === 'oai' ? "Invalid value for 'temperature': expected a number between 0 and 2, but got 3 instead." : 'temperature: Input should be less than or equal to 1',
    );
    assert.equal(res.json.error.type, 'upstream_error');
    assert.equal(res.json.error.category, 'invalid_request');
    assert.equal(res.headers['x-should-retry'], 'false');
    assert.deepEqual(callsByModel(sim), { [primary]: 1 });
    assert.equal(callsByModel(sim)[`${other(fmt)}-premium`], undefined);
  });
}

describe('quality floor', () => {
  test('no model on the route meets the class floor: 422 quality_floor_unmet listing each excluded model and why; zero upstream calls', async () => {
    const res = await chat(ask('hello'), 'floored');
    assert.equal(res.status, 422);
    assert.equal(res.json.error.code, 'quality_floor_unmet');
    assert.equal(res.json.error.category, 'quality_floor_unmet');
    assert.deepEqual(res.json.error.excluded, [
      { model: 'oai-standard', reason: 'tier "standard" is below the quality floor "premium"' },
      { model: 'ant-economy', reason: 'tier "economy" is below the quality floor "premium"' },
    ]);
    assert.match(res.json.error.message, /oai-standard .*ant-economy/);
    assert.equal(sim.stats().requests, 0);
  });

  test('a request needing tools on a route with no tool-capable model: 422, reason names the capability; zero upstream calls', async () => {
    const body = ask('look it up', { tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }] });
    const res = await chat(body, 'economy');
    assert.equal(res.status, 422);
    assert.equal(res.json.error.code, 'quality_floor_unmet');
    assert.deepEqual(res.json.error.excluded, [{ model: 'ant-economy', reason: 'lacks the "tools" capability required by the request' }]);
    assert.equal(sim.stats().requests, 0);
  });
});

test('every target rate-limited with a long Retry-After: 429 carrying retry-after, and x-should-retry true', async () => {
  sim.addFaults([faultOn('oai-premium', { error: 'rate_limit', retryAfter: 30 }), faultOn('ant-premium', { error: 'rate_limit', retryAfter: 20 })]);
  const res = await chat(ask('hello'), 'general');
  assert.equal(res.status, 429);
  assert.equal(res.json.error.category, 'rate_limited');
  assert.equal(res.headers['retry-after'], '20');
  assert.equal(res.headers['x-should-retry'], 'true');
  assert.deepEqual(callsByModel(sim), { 'oai-premium': 1, 'ant-premium': 1 });
});

test('route exhausted by transient failures: 502 gateway_error naming each attempt, x-should-retry false', async () => {
  sim.addFaults([faultOn('oai-premium2', { status: 500 }), faultOn('ant-premium2', { error: 'overloaded' })]);
  const res = await chat(ask('hello'), 'critical');
  assert.equal(res.status, 502);
  assert.equal(res.json.error.type, 'gateway_error');
  assert.equal(res.json.error.code, 'route_exhausted');
  assert.match(res.json.error.message, /oai-premium2 failed \(transient 500\).*ant-premium2 failed \(transient 529\)/);
  assert.equal(res.headers['x-should-retry'], 'false');
  assert.deepEqual(callsByModel(sim), { 'oai-premium2': 2, 'ant-premium2': 2 });
});

test('GET /v1/policy: the effective policy with the criticality defaults filled in', async () => {
  const res = await getJson(`${gw.url}/v1/policy`);
  assert.equal(res.status, 200);
  assert.equal(res.json.defaultClass, 'general');
  assert.deepEqual(res.json.classes['support-chat'].route, ['oai-premium', 'ant-premium']);
  assert.equal(res.json.classes['support-chat'].retriesPerTarget, 0);
  assert.equal(res.json.classes['support-chat'].equivalentQualityOnly, true);
  assert.equal(res.json.classes.economy.retriesPerTarget, 1);
  assert.equal(res.json.classes['batch-summaries'].maxAttempts, 8);
});

describe('provider_misconfigured over the gateway', () => {
  for (const fmt of FMTS) {
    test(`${fmt} 401: switch, circuit open at once, GET /health degraded, next request skips the target with zero calls`, async () => {
      // A gateway of its own: the opened circuit must not leak into other tests.
      const own = await startGateway(gatewayPolicy(sim.url, classes()));
      try {
        const primary = `${fmt}-premium`;
        const secondary = `${other(fmt)}-premium`;
        const klass = fmt === 'oai' ? 'general' : 'anthropic-first';
        const healthy = await getJson(`${own.url}/health`);
        assert.equal(healthy.json.status, 'ok');

        sim.addFaults(faultOn(primary, { error: 'auth' }));
        const first = await postJson(`${own.url}/v1/chat/completions`, ask('hello'), { 'x-traffic-class': klass });
        assert.equal(first.status, 200);
        assert.equal(first.headers['x-llm-model'], secondary);
        assert.deepEqual(callsByModel(sim), { [primary]: 1, [secondary]: 1 });

        const health = await getJson(`${own.url}/health`);
        assert.equal(health.status, 200);
        assert.equal(health.json.status, 'degraded');
        assert.deepEqual(health.json.info['llm-router'].openCircuits, [primary]);

        const second = await postJson(`${own.url}/v1/chat/completions`, ask('again'), { 'x-traffic-class': klass });
        assert.equal(second.status, 200);
        assert.equal(second.headers['x-llm-model'], secondary);
        assert.equal(second.headers['x-llm-attempts'], '1');
        assert.deepEqual(callsByModel(sim), { [primary]: 1, [secondary]: 2 });
      } finally {
        await own.close();
      }
    });
  }
});
