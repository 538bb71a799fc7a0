import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdleHeapTrim, idleTrimFromEnv } from './idle-heap-trim.js';

/** A trim driven by hand: the clock in ms, the process's CPU time in µs, each trim counted. */
function harness(quietMs = 10_000) {
  const state = { now: 0, cpu: 0, trims: 0, cpuPerTrim: 0 };
  const trim = new IdleHeapTrim({
    quietMs,
    now: () => state.now,
    cpuMicros: () => state.cpu,
    trim: async () => {
      state.trims++;
      state.cpu += state.cpuPerTrim;
    },
  });
  trim.start();
  trim.stop(); // Checks by hand only.
  /** `ms` later, having spent `cpuMs` of CPU in between. */
  const step = (ms: number, cpuMs: number) => {
    state.now += ms;
    state.cpu += cpuMs * 1000;
    return trim.check();
  };
  return { state, step };
}

test('a quiet spell after traffic trims once, after the quiet period, and not again until the process is busy again', async () => {
  const { state, step } = harness();
  await step(5_000, 2_000); // busy: serving
  await step(5_000, 10); // quiet for 5 s
  assert.equal(state.trims, 0);
  await step(5_000, 10); // quiet for 10 s
  assert.equal(state.trims, 1);
  for (let i = 0; i < 10; i++) await step(5_000, 10);
  assert.equal(state.trims, 1, 'one trim per quiet spell');
  await step(5_000, 1_500); // traffic again
  await step(5_000, 0);
  await step(5_000, 0);
  assert.equal(state.trims, 2);
});

test('no trim without traffic since the last one (the gateway trims before it listens), nor while traffic goes on', async () => {
  const { state, step } = harness();
  for (let i = 0; i < 10; i++) await step(5_000, 20);
  assert.equal(state.trims, 0, 'quiet since the start');
  for (let i = 0; i < 10; i++) await step(5_000, 200); // 4 % of a core: busy
  assert.equal(state.trims, 0, 'busy throughout');
});

test("the trim's own CPU time is not taken for traffic", async () => {
  const { state, step } = harness();
  state.cpuPerTrim = 400_000; // a 400 ms collection
  await step(5_000, 2_000);
  await step(5_000, 0);
  await step(5_000, 0);
  assert.equal(state.trims, 1);
  for (let i = 0; i < 6; i++) await step(5_000, 0);
  assert.equal(state.trims, 1);
});

test('LLM_IDLE_TRIM_SECONDS: unset or 0 never, whole seconds the quiet period, anything else stops the start', () => {
  for (const off of [{}, { LLM_IDLE_TRIM_SECONDS: ' ' }, { LLM_IDLE_TRIM_SECONDS: '0' }]) {
    assert.equal(idleTrimFromEnv(off).quietMs, undefined);
    assert.match(idleTrimFromEnv(off).description, /at start-up only/);
  }
  assert.equal(idleTrimFromEnv({ LLM_IDLE_TRIM_SECONDS: '60' }).quietMs, 60_000);
  for (const bad of ['-1', '1.5', 'ten', '10s']) {
    assert.throws(() => idleTrimFromEnv({ LLM_IDLE_TRIM_SECONDS: bad }), /LLM_IDLE_TRIM_SECONDS must be a whole number of seconds/);
  }
});
