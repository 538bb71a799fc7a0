/**
 * Criticality defaults over real HTTP: critical switches at once and never
 * down a tier, standard retries once, experimentation makes exactly one call,
 * maxAttempts caps the calls, and a passed deadline answers 504.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { buildPolicy, fastClass, type ClassDoc } from './support/policy.js';
import { gatewayPolicy, startGateway, type TestGateway } from './support/gateway.js';
import { postJson } from './support/http.js';
import { ask, makeRouter, rejection, simReply, type TestRouter } from './support/router.js';
import { callsByModel, faultOn, resetSim, startSim, waitFor, type SimulatorHandle } from './support/sim.js';

let sim: SimulatorHandle;
before(async () => {
  sim = await startSim();
});
after(() => sim.close());
beforeEach(() => resetSim(sim));

async function withRouter(classes: Record<string, ClassDoc>, fn: (t: TestRouter) => Promise<void>): Promise<void> {
  const t = makeRouter(buildPolicy(sim.url, classes));
  try {
    await fn(t);
  } finally {
    t.close();
  }
}

describe('critical', () => {
  // No retriesPerTarget / equivalentQualityOnly given: the criticality defaults apply.
  const classes = { crit: fastClass('critical', ['oai-premium', 'ant-premium', 'oai-standard']) };

  test('switches at once: zero retries on the failing primary', () =>
    withRouter(classes, async ({ router }) => {
      sim.addFaults(faultOn('oai-premium', { status: 503 }));
      const { outcome } = await router.complete(ask('hello'), { trafficClass: 'crit' });
      assert.deepEqual(callsByModel(sim), { 'oai-premium': 1, 'ant-premium': 1 });
      assert.equal(outcome.model, 'ant-premium');
      assert.equal(outcome.fallback, true);
      assert.equal(outcome.attempts, 2);
    }));

  test('never falls to a lower tier: with both premium targets down the call fails, the standard model is never called', () =>
    withRouter(classes, async ({ router, records }) => {
      sim.addFaults([faultOn('oai-premium', { status: 503 }), faultOn('ant-premium', { status: 503 })]);
      const err = await rejection(router.complete(ask('hello'), { trafficClass: 'crit' }));
      assert.deepEqual(callsByModel(sim), { 'oai-premium': 1, 'ant-premium': 1 });
      assert.equal(err.httpStatus, 502);
      assert.equal(err.code, 'route_exhausted');
      assert.deepEqual(records[0]!.plannedRoute, ['oai-premium', 'ant-premium']);
      assert.deepEqual(records[0]!.excluded.map((e) => e.model), ['oai-standard']);
      assert.match(records[0]!.excluded[0]!.reason, /below the primary's "premium"/);
    }));
});

describe('standard', () => {
  test('retries once on the primary before switching', () =>
    withRouter({ std: fastClass('standard', ['ant-premium', 'oai-premium', 'oai-standard']) }, async ({ router }) => {
      sim.addFaults(faultOn('ant-premium', { error: 'overloaded' }));
      const { outcome } = await router.complete(ask('hello'), { trafficClass: 'std' });
      assert.deepEqual(callsByModel(sim), { 'ant-premium': 2, 'oai-premium': 1 });
      assert.equal(outcome.model, 'oai-premium');
      assert.equal(outcome.attempts, 3);
    }));

  test('may fall to a lower tier when the premium targets are down', () =>
    withRouter({ std: fastClass('standard', ['ant-premium', 'oai-premium', 'oai-standard'], { retriesPerTarget: 0 }) }, async ({ router }) => {
      sim.addFaults([faultOn('ant-premium', { status: 500 }), faultOn('oai-premium', { status: 500 })]);
      const { outcome } = await router.complete(ask('hello'), { trafficClass: 'std' });
      assert.deepEqual(callsByModel(sim), { 'ant-premium': 1, 'oai-premium': 1, 'oai-standard': 1 });
      assert.equal(outcome.model, 'oai-standard');
    }));
});

describe('experimentation', () => {
  const classes = { exp: fastClass('experimentation', ['oai-frontier', 'ant-frontier']) };

  test('fails fast: exactly one upstream call, no retry, no fallback', () =>
    withRouter(classes, async ({ router, records }) => {
      sim.addFaults(faultOn('oai-frontier', { status: 503 }));
      const err = await rejection(router.complete(ask('hello'), { trafficClass: 'exp' }));
      assert.deepEqual(callsByModel(sim), { 'oai-frontier': 1 });
      assert.equal(err.httpStatus, 502);
      assert.equal(records[0]!.attempts.length, 1);
      assert.deepEqual(records[0]!.plannedRoute, ['oai-frontier']);
    }));

  test('a short Retry-After does not buy a retry either', () =>
    withRouter(classes, async ({ router }) => {
      sim.addFaults(faultOn('oai-frontier', { error: 'rate_limit', retryAfter: 0.01 }));
      const err = await rejection(router.complete(ask('hello'), { trafficClass: 'exp' }));
      assert.deepEqual(callsByModel(sim), { 'oai-frontier': 1 });
      assert.equal(err.httpStatus, 429);
      assert.equal(err.category, 'rate_limited');
    }));
});

describe('maxAttempts', () => {
  test('caps the total number of upstream calls across targets', () =>
    withRouter({ capped: fastClass('standard', ['oai-premium', 'ant-premium', 'oai-premium2'], { retriesPerTarget: 1, maxAttempts: 3 }) }, async ({ router, records }) => {
      sim.addFaults([faultOn('oai-premium', { status: 503 }), faultOn('ant-premium', { status: 503 }), faultOn('oai-premium2', { status: 503 })]);
      const err = await rejection(router.complete(ask('hello'), { trafficClass: 'capped' }));
      assert.deepEqual(callsByModel(sim), { 'oai-premium': 2, 'ant-premium': 1 });
      assert.equal(err.httpStatus, 502);
      assert.equal(records[0]!.attempts.length, 3);
    }));

  test('a cap of 2 with retries allowed: the second call is the retry, no switch follows', () =>
    withRouter({ capped: fastClass('batch', ['ant-premium', 'oai-premium'], { retriesPerTarget: 3, maxAttempts: 2 }) }, async ({ router }) => {
      sim.addFaults(faultOn('ant-premium', { error: 'server_error' }));
      await rejection(router.complete(ask('hello'), { trafficClass: 'capped' }));
      assert.deepEqual(callsByModel(sim), { 'ant-premium': 2 });
    }));
});

describe('over the gateway', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway(
      gatewayPolicy(sim.url, {
        general: fastClass('standard', ['oai-premium', 'ant-premium']),
        'support-chat': fastClass('critical', ['oai-premium', 'ant-premium', 'oai-standard'], { qualityFloor: { tier: 'premium' } }),
        // The deadline passes while the second target is still answering (1 s: the first target's 200 ms answer
        // must be in before it, which 400 ms did not always leave on a loaded machine).
        deadline: fastClass('critical', ['oai-premium2', 'ant-premium2'], { deadlineMs: 1_000, attemptTimeoutMs: 1_000, firstByteTimeoutMs: 2_000 }),
      }),
    );
  });
  after(() => gw.close());

  test('deadline_exceeded: 504 once the class deadline passes; the call in flight is abandoned', async () => {
    sim.addFaults([faultOn('oai-premium2', { latencyMs: 200, status: 503 }), faultOn('ant-premium2', { latencyMs: 3_000 })]);
    const res = await postJson(`${gw.url}/v1/chat/completions`, ask('hello'), { 'x-traffic-class': 'deadline' });
    assert.equal(res.status, 504);
    assert.equal(res.json.error.category, 'deadline_exceeded');
    assert.equal(res.json.error.type, 'gateway_error');
    assert.equal(res.headers['x-should-retry'], 'false');
    assert.deepEqual(callsByModel(sim), { 'oai-premium2': 1, 'ant-premium2': 1 });
    // The abandoned upstream call is closed, not left running.
    await waitFor(() => sim.stats().clientAborts === 1 && sim.stats().inFlight === 0, 'the upstream call cut at the deadline to be closed');
  });

  test('POST /support/chat (critical, decorator-set class): primary down, served by the equivalent backup at once', async () => {
    sim.addFaults(faultOn('oai-premium', { error: 'server_error' }));
    const res = await postJson(`${gw.url}/support/chat`, { message: 'where is my order?' });
    assert.equal(res.status, 200);
    assert.equal(res.json.reply, simReply('ant-premium', 'where is my order?'));
    assert.equal(res.json.routing.model, 'ant-premium');
    assert.equal(res.json.routing.fallback, true);
    assert.equal(res.json.routing.attempts, 2);
    assert.equal(res.headers['x-llm-model'], 'ant-premium');
    assert.deepEqual(callsByModel(sim), { 'oai-premium': 1, 'ant-premium': 1 });
  });

  test('POST /support/chat with both premium targets down: 502, the lower-tier model never called', async () => {
    sim.addFaults([faultOn('oai-premium', { error: 'server_error' }), faultOn('ant-premium', { error: 'server_error' })]);
    const res = await postJson(`${gw.url}/support/chat`, { message: 'help' });
    assert.equal(res.status, 502);
    assert.equal(res.json.error.code, 'route_exhausted');
    assert.deepEqual(callsByModel(sim), { 'oai-premium': 1, 'ant-premium': 1 });
  });
});
