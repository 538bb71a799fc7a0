/**
 * Circuit breaker over real HTTP: consecutive failures open it, an open
 * circuit is skipped without a call, after the cool-down exactly one
 * half-open probe goes through, and its outcome closes or re-opens it.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import type { LlmRouter } from '@llm-router/nestjs';
import { buildPolicy, fastClass } from './support/policy.js';
import { ask, makeRouter, rejection, type TestRouter } from './support/router.js';
import { callsByModel, faultOn, resetSim, startSim, waitFor, type SimulatorHandle } from './support/sim.js';

let sim: SimulatorHandle;
let t: TestRouter;

before(async () => {
  sim = await startSim();
});
after(() => sim.close());
const routerWithCooldown = (cooldownMs: number) =>
  makeRouter(buildPolicy(sim.url, { std: fastClass('standard', ['oai-premium', 'ant-premium'], { retriesPerTarget: 0 }) }, { circuit: { failureThreshold: 3, cooldownMs } }));
beforeEach(() => {
  resetSim(sim);
  t = routerWithCooldown(200);
});
// Each test gets fresh circuits.
const done = () => t.close();

const call = () => t.router.complete(ask('hello'), { trafficClass: 'std' });
async function circuit(router: LlmRouter, target: string) {
  return (await router.circuitStates()).find((c) => c.target === target);
}

test('opens after failureThreshold consecutive transient failures; then skipped with zero upstream calls', async () => {
  // A cool-down no busy machine outlasts between the third failure and the skipped call.
  t.close();
  t = routerWithCooldown(60_000);
  try {
    sim.addFaults(faultOn('oai-premium', { status: 503 }));
    await call();
    await call();
    assert.equal((await circuit(t.router, 'oai-premium'))?.status, 'closed');
    await call();
    const c = await circuit(t.router, 'oai-premium');
    assert.equal(c?.status, 'open');
    assert.equal(c?.consecutiveFailures, 3);
    assert.deepEqual(callsByModel(sim), { 'oai-premium': 3, 'ant-premium': 3 });

    const { outcome } = await call();
    assert.equal(outcome.model, 'ant-premium');
    assert.equal(outcome.attempts, 1);
    assert.deepEqual(callsByModel(sim), { 'oai-premium': 3, 'ant-premium': 4 });
    assert.deepEqual(t.records.at(-1)!.attempts.map((a) => [a.model, a.outcome, a.category]), [
      ['oai-premium', 'skipped', 'circuit_open'],
      ['ant-premium', 'success', undefined],
    ]);
  } finally {
    done();
  }
});

test('after the cool-down a single half-open probe is let through; its success closes the circuit', async () => {
  try {
    sim.addFaults(faultOn('oai-premium', { status: 503 }, 3));
    for (let i = 0; i < 3; i++) await call();
    assert.equal((await circuit(t.router, 'oai-premium'))?.status, 'open');
    await waitFor(async () => (await circuit(t.router, 'oai-premium'))?.status === 'half_open', 'the cool-down to pass', 2_000);
    resetSim(sim);
    // The probe answers slowly, so the second request arrives while it is in flight.
    sim.addFaults(faultOn('oai-premium', { latencyMs: 150 }, 1));
    const [a, b] = await Promise.all([call(), call()]);
    assert.deepEqual(callsByModel(sim), { 'oai-premium': 1, 'ant-premium': 1 });
    assert.deepEqual([a.outcome.model, b.outcome.model].sort(), ['ant-premium', 'oai-premium']);
    const skipped = t.records.slice(-2).filter((r) => r.attempts[0]?.outcome === 'skipped');
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]!.attempts[0]!.category, 'circuit_open');

    assert.equal((await circuit(t.router, 'oai-premium'))?.status, 'closed');
    const next = await call();
    assert.equal(next.outcome.model, 'oai-premium');
    assert.deepEqual(callsByModel(sim), { 'oai-premium': 2, 'ant-premium': 1 });
  } finally {
    done();
  }
});

test('a failed half-open probe re-opens the circuit at once for another cool-down', async () => {
  try {
    sim.addFaults(faultOn('oai-premium', { status: 503 }));
    for (let i = 0; i < 3; i++) await call();
    await waitFor(async () => (await circuit(t.router, 'oai-premium'))?.status === 'half_open', 'the cool-down to pass', 2_000);
    resetSim(sim);
    sim.addFaults(faultOn('oai-premium', { status: 503 }));
    const probe = await call();
    assert.equal(probe.outcome.model, 'ant-premium');
    assert.deepEqual(callsByModel(sim), { 'oai-premium': 1, 'ant-premium': 1 });
    assert.equal((await circuit(t.router, 'oai-premium'))?.status, 'open');
    await call();
    assert.deepEqual(callsByModel(sim), { 'oai-premium': 1, 'ant-premium': 2 });
  } finally {
    done();
  }
});

test('a success in between resets the count: non-consecutive failures never open the circuit', async () => {
  try {
    sim.addFaults([faultOn('oai-premium', { status: 503 }, 2)]);
    await call();
    await call();
    await call(); // succeeds on oai-premium
    sim.addFaults([faultOn('oai-premium', { status: 503 }, 2)]);
    await call();
    await call();
    const c = await circuit(t.router, 'oai-premium');
    assert.equal(c?.status, 'closed');
    assert.equal(c?.consecutiveFailures, 2);
    const { outcome } = await call();
    assert.equal(outcome.model, 'oai-premium');
    assert.deepEqual(callsByModel(sim), { 'oai-premium': 6, 'ant-premium': 4 });
  } finally {
    done();
  }
});

test('failures the table says are not the target\'s fault (invalid_request) never open the circuit', async () => {
  try {
    sim.addFaults(faultOn('oai-premium', { error: 'invalid_request' }, 4));
    for (let i = 0; i < 4; i++) await rejection(call());
    assert.notEqual((await circuit(t.router, 'oai-premium'))?.status, 'open');
    const { outcome } = await call();
    assert.equal(outcome.model, 'oai-premium');
    assert.deepEqual(callsByModel(sim), { 'oai-premium': 5 });
  } finally {
    done();
  }
});

test('streams cut after content (stream_interrupted) count against the circuit', async () => {
  try {
    sim.addFaults(faultOn('oai-premium', { streamCutAfter: 2 }));
    const stream = () => lastValueFrom(t.router.stream$(ask('s', { stream: true }), { trafficClass: 'std' }).pipe(toArray()));
    for (let i = 0; i < 3; i++) assert.equal((await rejection(stream())).category, 'stream_interrupted');
    assert.equal((await circuit(t.router, 'oai-premium'))?.status, 'open');
    const chunks = await stream();
    assert.equal(chunks[0]!.outcome.model, 'ant-premium');
    assert.deepEqual(callsByModel(sim), { 'oai-premium': 3, 'ant-premium': 1 });
  } finally {
    done();
  }
});
