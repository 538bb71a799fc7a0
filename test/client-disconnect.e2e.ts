/**
 * A caller that goes away must not leave the upstream call running (and
 * billing): the simulator has to see its connection closed. Also: an attempt
 * the router gives up on (first-byte timeout) closes its upstream connection.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { RoutedChunk } from '@llm-router/nestjs';
import { buildPolicy, fastClass, FMTS } from './support/policy.js';
import { gatewayPolicy, startGateway, type TestGateway } from './support/gateway.js';
import { joinedContent, readSseUntil, start } from './support/http.js';
import { ask, makeRouter, rejection } from './support/router.js';
import { callsByModel, faultOn, resetSim, startSim, waitFor, type SimulatorHandle } from './support/sim.js';

let sim: SimulatorHandle;
let gw: TestGateway;

before(async () => {
  sim = await startSim();
  gw = await startGateway(
    gatewayPolicy(sim.url, {
      'oai-only': fastClass('standard', ['oai-premium']),
      'ant-only': fastClass('standard', ['ant-premium']),
    }),
  );
});
after(async () => {
  await gw.close();
  await sim.close();
});
beforeEach(async () => {
  // A previous test's connections must be gone before this one counts.
  await waitFor(() => sim.stats().inFlight === 0, 'no upstream request in flight before the test');
  resetSim(sim);
});

const upstreamClosed = () =>
  waitFor(() => sim.stats().clientAborts === 1 && sim.stats().inFlight === 0, 'the simulator to see the upstream connection closed (clientAborts 1, inFlight 0)', 2_000);

for (const fmt of FMTS) {
  const model = `${fmt}-premium`;
  const klass = `${fmt}-only`;

  describe(`gateway, ${fmt} upstream`, () => {
    test('client aborts a stream mid-way: the upstream connection is closed', async () => {
      sim.addFaults(faultOn(model, { chunkDelayMs: 50, chunks: 40 }));
      const { req, response } = start(`${gw.url}/v1/chat/completions`, 'POST', ask('stream slowly', { stream: true }), { 'x-traffic-class': klass });
      const res = await response;
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-llm-model'], model);
      // Read until the first content fragment has arrived, then hang up.
      await readSseUntil(res, (events) => joinedContent(events).length > 0);
      assert.equal(sim.stats().inFlight, 1);
      req.destroy();
      await upstreamClosed();
      assert.deepEqual(callsByModel(sim), { [model]: 1 });
    });

    test('client aborts a slow non-streaming request: the upstream connection is closed', async () => {
      sim.addFaults(faultOn(model, { latencyMs: 3_000 }));
      const { req } = start(`${gw.url}/v1/chat/completions`, 'POST', ask('answer slowly'), { 'x-traffic-class': klass });
      await waitFor(() => sim.stats().inFlight === 1, 'the upstream request to arrive');
      req.destroy();
      await upstreamClosed();
      assert.deepEqual(callsByModel(sim), { [model]: 1 });
    });
  });
}

describe('gateway, sample support chat', () => {
  test('a customer who closes the chat aborts the upstream call', async () => {
    sim.addFaults(faultOn('oai-premium', { latencyMs: 4_000 }));
    const { req } = start(`${gw.url}/support/chat`, 'POST', { message: 'slow answer please' });
    await waitFor(() => sim.stats().inFlight === 1, 'the upstream request to arrive');
    req.destroy();
    await upstreamClosed();
    assert.deepEqual(callsByModel(sim), { 'oai-premium': 1 });
  });
});

describe('router API', () => {
  const policy = () => buildPolicy(sim.url, { std: fastClass('standard', ['oai-premium', 'ant-premium'], { retriesPerTarget: 0 }) });

  test('unsubscribing from completion$ aborts the upstream call; the record says aborted', async () => {
    const t = makeRouter(policy());
    try {
      sim.addFaults(faultOn('oai-premium', { latencyMs: 3_000 }));
      const sub = t.router.completion$(ask('slow'), { trafficClass: 'std' }).subscribe({ error: () => undefined });
      await waitFor(() => sim.stats().inFlight === 1, 'the upstream request to arrive');
      sub.unsubscribe();
      await upstreamClosed();
      assert.deepEqual(callsByModel(sim), { 'oai-premium': 1 });
      assert.equal(t.records.length, 1);
      assert.equal(t.records[0]!.outcome, 'aborted');
      assert.deepEqual(t.records[0]!.attempts.map((a) => [a.model, a.outcome]), [['oai-premium', 'aborted']]);
    } finally {
      t.close();
    }
  });

  test('unsubscribing from stream$ after the first chunk aborts the upstream stream', async () => {
    const t = makeRouter(policy());
    try {
      sim.addFaults(faultOn('oai-premium', { chunkDelayMs: 50, chunks: 40 }));
      const chunks: RoutedChunk[] = [];
      const sub = t.router.stream$(ask('slow stream', { stream: true }), { trafficClass: 'std' }).subscribe({ next: (c) => chunks.push(c), error: () => undefined });
      await waitFor(() => chunks.some((c) => (c.chunk.choices[0]?.delta.content ?? '').length > 0), 'a content chunk');
      sub.unsubscribe();
      await upstreamClosed();
      assert.deepEqual(callsByModel(sim), { 'oai-premium': 1 });
      assert.equal(t.records.length, 1);
      assert.equal(t.records[0]!.outcome, 'aborted');
    } finally {
      t.close();
    }
  });

  for (const fmt of FMTS) {
    test(`${fmt}: an attempt abandoned at the first-byte timeout closes its upstream connection`, async () => {
      const t = makeRouter(buildPolicy(sim.url, { one: fastClass('experimentation', [`${fmt}-premium`]) }));
      try {
        sim.addFaults(faultOn(`${fmt}-premium`, { hang: true }));
        const err = await rejection(t.router.complete(ask('no answer'), { trafficClass: 'one' }));
        assert.equal(err.category, 'transient');
        assert.deepEqual(callsByModel(sim), { [`${fmt}-premium`]: 1 });
        // The router gave up on the call: the socket must not stay open, waiting on an answer nobody reads.
        await upstreamClosed();
      } finally {
        t.close();
      }
    });
  }
});
