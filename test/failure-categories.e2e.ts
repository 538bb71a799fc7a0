/**
 * The behaviour table (CATEGORY_RULES) over real HTTP: for every failure
 * category, on both provider wire formats, the router makes exactly the
 * retries and switches the table asks for, counted by the simulator.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Fault } from '../apps/simulator/src/index.js';
import { buildPolicy, fastClass, FMTS, other, type ClassDoc, type PolicyOptions } from './support/policy.js';
import { ask, makeRouter, rejection, simReply, type TestRouter } from './support/router.js';
import { callsByModel, closedPort, faultOn, resetSim, startSim, type SimulatorHandle } from './support/sim.js';

let sim: SimulatorHandle;
let deadPort: number;

before(async () => {
  sim = await startSim();
  deadPort = await closedPort();
});
after(() => sim.close());
beforeEach(() => resetSim(sim));

/** A fresh router (fresh circuits) per test. */
async function withRouter(classes: Record<string, ClassDoc>, fn: (t: TestRouter) => Promise<void>, options: PolicyOptions = {}): Promise<void> {
  const t = makeRouter(buildPolicy(sim.url, classes, { deadPort, ...options }));
  try {
    await fn(t);
  } finally {
    t.close();
  }
}

/**
 * Standard class: one retry per target, then the next candidate. A first byte
 * may take 2.5 s: the fast 300 ms turned a cold adapter's first answer on a
 * loaded machine into a timeout and an extra call now and then. The hang test
 * sets its own.
 */
const std = (route: string[], extra: Partial<ClassDoc> = {}) => ({ std: fastClass('standard', route, { retriesPerTarget: 1, firstByteTimeoutMs: 2_500, ...extra }) });
const opts = { trafficClass: 'std' };

for (const fmt of FMTS) {
  const primary = `${fmt}-premium`;
  const secondary = `${other(fmt)}-premium`;

  describe(`rate_limited (${fmt} primary)`, () => {
    test('429 with a Retry-After that fits the deadline: waits that long, retries the same target, which then serves', () =>
      withRouter(std([primary, secondary]), async ({ router, records }) => {
        sim.addFaults(faultOn(primary, { error: 'rate_limit', retryAfter: 0.05 }, 1));
        const { completion, outcome } = await router.complete(ask('hello'), opts);
        assert.deepEqual(callsByModel(sim), { [primary]: 2 });
        assert.equal(outcome.model, primary);
        assert.equal(outcome.fallback, false);
        assert.equal(outcome.attempts, 2);
        assert.equal(completion.choices[0]!.message.content, simReply(primary, 'hello'));
        const [rec] = records;
        assert.equal(records.length, 1);
        assert.deepEqual(rec!.attempts.map((a) => [a.model, a.outcome, a.category, a.status]), [
          [primary, 'failure', 'rate_limited', 429],
          [primary, 'success', undefined, undefined],
        ]);
        // The wait before the retry is the provider's Retry-After (50 ms), not the 5 ms backoff.
        assert.equal(rec!.attempts[1]!.waitedMs, 50);
      }));

    test('429 on every try: retried retriesPerTarget times after the Retry-After wait, then switched', () =>
      withRouter(std([primary, secondary]), async ({ router, records }) => {
        sim.addFaults(faultOn(primary, { error: 'rate_limit', retryAfter: 0.02 }));
        const { outcome } = await router.complete(ask('hello'), opts);
        assert.deepEqual(callsByModel(sim), { [primary]: 2, [secondary]: 1 });
        assert.equal(outcome.model, secondary);
        assert.equal(outcome.fallback, true);
        assert.equal(outcome.attempts, 3);
        assert.equal(records[0]!.attempts[1]!.waitedMs, 20);
      }));

    test('Retry-After longer than the time left before the deadline: switches at once, no retry on the same target', () =>
      withRouter(std([primary, secondary]), async ({ router, records }) => {
        sim.addFaults(faultOn(primary, { error: 'rate_limit', retryAfter: 30 }));
        const { outcome } = await router.complete(ask('hello'), opts);
        assert.deepEqual(callsByModel(sim), { [primary]: 1, [secondary]: 1 });
        assert.equal(outcome.model, secondary);
        assert.deepEqual(records[0]!.attempts.map((a) => a.category ?? a.outcome), ['rate_limited', 'success']);
      }));
  });

  describe(`transient (${fmt} primary)`, () => {
    const kinds: Array<{ name: string; fault: Fault; status?: number; code?: string }> = [
      { name: 'HTTP 500', fault: { error: 'server_error' }, status: 500 },
      { name: 'HTTP 502', fault: { error: 'bad_gateway' }, status: 502 },
      { name: 'HTTP 503', fault: { status: 503 }, status: 503 },
      { name: fmt === 'ant' ? 'Anthropic 529 overloaded' : 'OpenAI 503 overloaded', fault: { error: 'overloaded' }, status: fmt === 'ant' ? 529 : 503 },
      { name: 'connection reset', fault: { reset: true } },
      { name: 'hang: first-byte timeout', fault: { hang: true }, code: 'first_byte_timeout' },
    ];
    for (const kind of kinds) {
      test(`${kind.name}: retried once on the same target, then switched`, () =>
        withRouter(std([primary, secondary], kind.fault.hang ? { firstByteTimeoutMs: 1_000 } : {}), async ({ router, records }) => {
          sim.addFaults(faultOn(primary, kind.fault));
          const { completion, outcome } = await router.complete(ask('hi there'), opts);
          assert.deepEqual(callsByModel(sim), { [primary]: 2, [secondary]: 1 });
          assert.equal(outcome.model, secondary);
          assert.equal(outcome.fallback, true);
          assert.equal(completion.choices[0]!.message.content, simReply(secondary, 'hi there'));
          const failed = records[0]!.attempts.filter((a) => a.outcome === 'failure');
          assert.equal(failed.length, 2);
          for (const a of failed) {
            assert.equal(a.model, primary);
            assert.equal(a.category, 'transient');
            assert.equal(a.status, kind.status);
            if (kind.code) assert.equal(a.code, kind.code);
          }
        }));
    }

    test('one 503, then the retry on the same target succeeds: no switch', () =>
      withRouter(std([primary, secondary]), async ({ router }) => {
        sim.addFaults(faultOn(primary, { status: 503 }, 1));
        const { outcome } = await router.complete(ask('hello'), opts);
        assert.deepEqual(callsByModel(sim), { [primary]: 2 });
        assert.equal(outcome.model, primary);
        assert.equal(outcome.fallback, false);
      }));
  });

  describe(`provider_misconfigured (${fmt} primary)`, () => {
    const kinds: Array<{ name: string; fault: Fault; status: number }> = [
      { name: '401 invalid key', fault: { error: 'auth' }, status: 401 },
      { name: '403 forbidden', fault: { error: 'forbidden' }, status: 403 },
      { name: '404 model not found', fault: { error: 'model_not_found' }, status: 404 },
    ];
    for (const kind of kinds) {
      test(`${kind.name}: no retry, switch, and the circuit opens at once (the next request skips the target with no call)`, () =>
        withRouter(std([primary, secondary]), async ({ router, records }) => {
          sim.addFaults(faultOn(primary, kind.fault));
          const first = await router.complete(ask('hello'), opts);
          assert.deepEqual(callsByModel(sim), { [primary]: 1, [secondary]: 1 });
          assert.equal(first.outcome.model, secondary);
          assert.deepEqual(records[0]!.attempts.map((a) => [a.model, a.category, a.status]), [
            [primary, 'provider_misconfigured', kind.status],
            [secondary, undefined, undefined],
          ]);
          const circuit = (await router.circuitStates()).find((c) => c.target === primary);
          assert.equal(circuit?.status, 'open');

          const second = await router.complete(ask('hello again'), opts);
          assert.deepEqual(callsByModel(sim), { [primary]: 1, [secondary]: 2 });
          assert.equal(second.outcome.model, secondary);
          assert.equal(second.outcome.attempts, 1);
          assert.deepEqual(records[1]!.attempts.map((a) => [a.model, a.outcome, a.category]), [
            [primary, 'skipped', 'circuit_open'],
            [secondary, 'success', undefined],
          ]);
        }));
    }
  });

  describe(`upstream_quota (${fmt} primary)`, () => {
    const name = fmt === 'oai' ? 'OpenAI 429 insufficient_quota' : 'Anthropic 400 credit balance too low';
    test(`${name}: no retry (even with a Retry-After), switch, target marked unhealthy`, () =>
      withRouter(std([primary, secondary]), async ({ router, records }) => {
        sim.addFaults(faultOn(primary, { error: 'quota', retryAfter: 0.01 }));
        const { outcome } = await router.complete(ask('hello'), opts);
        assert.deepEqual(callsByModel(sim), { [primary]: 1, [secondary]: 1 });
        assert.equal(outcome.model, secondary);
        assert.equal(records[0]!.attempts[0]!.category, 'upstream_quota');
        assert.equal(records[0]!.attempts[0]!.status, fmt === 'oai' ? 429 : 400);
        const circuit = (await router.circuitStates()).find((c) => c.target === primary);
        assert.equal(circuit?.status, 'open');
      }));
  });

  describe(`invalid_request (${fmt} primary)`, () => {
    test('400: no retry, no switch, returned at once with status 400 and the upstream message', () =>
      withRouter(std([primary, secondary]), async ({ router, records }) => {
        sim.addFaults(faultOn(primary, { error: 'invalid_request' }));
        const err = await rejection(router.complete(ask('hello'), opts));
        assert.deepEqual(callsByModel(sim), { [primary]: 1 });
        assert.equal(err.category, 'invalid_request');
        assert.equal(err.httpStatus, 400);
        const upstreamMessage =
          fmt === 'oai' ? "Invalid value for 'temperature': expected a number between 0 and 2, but got 3 instead." : 'temperature: Input should be less than or equal to 1';
        assert.equal(err.message, upstreamMessage);
        assert.equal(records.length, 1);
        assert.deepEqual(records[0]!.attempts.map((a) => [a.model, a.category, a.status]), [[primary, 'invalid_request', 400]]);
        // Not a target fault: the circuit does not count it.
        assert.equal((await router.circuitStates()).find((c) => c.target === primary && c.status !== 'closed'), undefined);
      }));
  });

  describe(`context_length (${fmt} primary)`, () => {
    const mid = `${fmt}-mid`;
    const small = `${other(fmt)}-small`;
    const large = `${other(fmt)}-large`;
    test('no retry; skips the next model (smaller window) and switches only to a later one with a larger window', () =>
      withRouter(std([mid, small, large]), async ({ router, records }) => {
        sim.addFaults(faultOn(mid, { error: 'context_length' }));
        const { outcome } = await router.complete(ask('a long prompt'), opts);
        assert.deepEqual(callsByModel(sim), { [mid]: 1, [large]: 1 });
        assert.equal(outcome.model, large);
        assert.equal(outcome.fallback, true);
        assert.deepEqual(records[0]!.attempts.map((a) => [a.model, a.category]), [
          [mid, 'context_length'],
          [large, undefined],
        ]);
      }));

    test('no later model has a larger window: returned to the caller as 400 context_length_exceeded after one call', () =>
      withRouter(std([mid, small]), async ({ router }) => {
        sim.addFaults(faultOn(mid, { error: 'context_length' }));
        const err = await rejection(router.complete(ask('a long prompt'), opts));
        assert.deepEqual(callsByModel(sim), { [mid]: 1 });
        assert.equal(err.category, 'context_length');
        assert.equal(err.httpStatus, 400);
        assert.equal(err.code, 'context_length_exceeded');
      }));
  });

  describe(`content_filtered (${fmt} primary)`, () => {
    test('by default: no retry, no switch; returned as 400 content_filter', () =>
      withRouter(std([primary, secondary]), async ({ router, records }) => {
        sim.addFaults(faultOn(primary, { error: 'content_filter' }));
        const err = await rejection(router.complete(ask('something'), opts));
        assert.deepEqual(callsByModel(sim), { [primary]: 1 });
        assert.equal(err.httpStatus, 400);
        assert.equal(err.category, 'content_filtered');
        assert.equal(err.code, 'content_filter');
        assert.equal(records[0]!.attempts[0]!.category, 'content_filtered');
      }));

    test('class with switchOnContentFilter: true: no retry, one switch to the next provider', () =>
      withRouter(std([primary, secondary], { switchOnContentFilter: true }), async ({ router }) => {
        sim.addFaults(faultOn(primary, { error: 'content_filter' }));
        const { outcome } = await router.complete(ask('something'), opts);
        assert.deepEqual(callsByModel(sim), { [primary]: 1, [secondary]: 1 });
        assert.equal(outcome.model, secondary);
        assert.equal(outcome.fallback, true);
      }));
  });
}

describe('transient: connection refused', () => {
  test('a provider on a closed port: retried once, then switched; no upstream call reaches anyone else', () =>
    withRouter(std(['dead-premium', 'oai-premium']), async ({ router, records }) => {
      const { outcome } = await router.complete(ask('hello'), opts);
      assert.deepEqual(callsByModel(sim), { 'oai-premium': 1 });
      assert.equal(outcome.model, 'oai-premium');
      assert.equal(outcome.fallback, true);
      assert.deepEqual(records[0]!.attempts.map((a) => [a.model, a.outcome, a.category, a.code]), [
        ['dead-premium', 'failure', 'transient', 'ECONNREFUSED'],
        ['dead-premium', 'failure', 'transient', 'ECONNREFUSED'],
        ['oai-premium', 'success', undefined, undefined],
      ]);
    }));
});
