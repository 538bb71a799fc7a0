/**
 * Streaming over the gateway: a failure before the first chunk switches
 * target (one coherent answer from one model); after it, the stream ends in
 * an explicit error event, never [DONE], never a second model's content.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { splitChunks } from '../apps/simulator/src/index.js';
import type { Fault } from '../apps/simulator/src/index.js';
import { fastClass, FMTS, other } from './support/policy.js';
import { gatewayPolicy, startGateway, type TestGateway } from './support/gateway.js';
import { chunksOf, joinedContent, postSse } from './support/http.js';
import { ask, simReply } from './support/router.js';
import { callsByModel, faultOn, resetSim, startSim, type SimulatorHandle } from './support/sim.js';

let sim: SimulatorHandle;
let gw: TestGateway;

before(async () => {
  sim = await startSim();
  gw = await startGateway(
    gatewayPolicy(sim.url, {
      'oai-first': fastClass('standard', ['oai-premium', 'ant-premium'], { retriesPerTarget: 1 }),
      'ant-first': fastClass('standard', ['ant-premium', 'oai-premium'], { retriesPerTarget: 1 }),
    }),
  );
});
after(async () => {
  await gw.close();
  await sim.close();
});
beforeEach(() => resetSim(sim));

const PROMPT = 'tell me a story';
const stream = (trafficClass: string) => postSse(`${gw.url}/v1/chat/completions`, ask(PROMPT, { stream: true }), { 'x-traffic-class': trafficClass });

for (const fmt of FMTS) {
  const primary = `${fmt}-premium`;
  const secondary = `${other(fmt)}-premium`;
  const klass = `${fmt}-first`;

  describe(`${fmt} primary`, () => {
    test('baseline: one model streams the whole answer, ending with [DONE]', async () => {
      const res = await stream(klass);
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-llm-model'], primary);
      assert.equal(res.headers['x-llm-fallback'], 'false');
      assert.equal(joinedContent(res.events), simReply(primary, PROMPT));
      assert.equal(res.done, true);
      assert.deepEqual(callsByModel(sim), { [primary]: 1 });
    });

    const before: Array<{ name: string; fault: Fault }> = [
      { name: 'HTTP 503', fault: { status: 503 } },
      { name: 'connection reset', fault: { reset: true } },
      { name: 'no first byte (hang)', fault: { hang: true } },
    ];
    for (const { name, fault } of before) {
      test(`${name} before the first chunk: retried, then switched; headers name the serving model, fallback true, one coherent answer`, async () => {
        sim.addFaults(faultOn(primary, fault));
        const res = await stream(klass);
        assert.equal(res.status, 200);
        assert.equal(res.headers['x-llm-model'], secondary);
        assert.equal(res.headers['x-llm-fallback'], 'true');
        assert.equal(res.headers['x-llm-attempts'], '3');
        assert.equal(joinedContent(res.events), simReply(secondary, PROMPT));
        for (const chunk of chunksOf(res.events)) assert.equal(chunk.model, secondary);
        assert.equal(res.done, true);
        assert.deepEqual(callsByModel(sim), { [primary]: 2, [secondary]: 1 });
      });
    }

    for (const kind of ['streamCutAfter', 'streamErrorAfter'] as const) {
      test(`${kind}: 2 after the first content chunk: explicit error event, no [DONE], no second model, exactly one upstream call`, async () => {
        sim.addFaults(faultOn(primary, { [kind]: 2 }));
        const res = await stream(klass);
        assert.equal(res.status, 200);
        assert.equal(res.headers['x-llm-model'], primary);
        // Exactly the two fragments the primary sent, nothing from anyone else.
        const full = simReply(primary, PROMPT);
        assert.equal(joinedContent(res.events), splitChunks(full, 8).slice(0, 2).join(''));
        for (const chunk of chunksOf(res.events)) assert.equal(chunk.model, primary);
        assert.equal(res.done, false);
        assert.ok(!res.events.includes('[DONE]'));
        const last = res.events.at(-1);
        assert.equal(typeof last?.error, 'object', `last event should be an error, got ${JSON.stringify(last)}`);
        assert.equal(last.error.code, 'stream_interrupted');
        assert.equal(last.error.category, 'stream_interrupted');
        assert.deepEqual(callsByModel(sim), { [primary]: 1 });
      });
    }

    test('a malformed event after the first content chunk (streamMalformedAfter: 2): nothing of it or after it reaches the client, an explicit error event, no [DONE]; the record says the upstream broke its protocol', async () => {
      sim.addFaults(faultOn(primary, { streamMalformedAfter: 2 }));
      const res = await stream(klass);
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-llm-model'], primary);
      assert.equal(joinedContent(res.events), splitChunks(simReply(primary, PROMPT), 8).slice(0, 2).join(''));
      const events = res.events.filter((e) => e !== '[DONE]');
      // The role chunk, two content chunks, the error: the malformed event and the rest of the upstream's stream are not passed on.
      assert.equal(events.length, 4, JSON.stringify(res.events));
      assert.equal(res.done, false);
      const last = res.events.at(-1);
      assert.equal(last?.error?.code, 'stream_interrupted', JSON.stringify(last));
      assert.equal(last.error.category, 'stream_interrupted');
      assert.match(last.error.message, /upstream broke the stream protocol/);
      assert.deepEqual(callsByModel(sim), { [primary]: 1 });
      const record = gw.records.at(-1)!;
      assert.deepEqual([record.outcome, record.errorCategory], ['failure', 'stream_interrupted']);
      assert.deepEqual(
        record.attempts.map((a) => [a.model, a.category, a.code]),
        [[primary, 'stream_interrupted', 'invalid_stream_event']],
      );
      assert.match(record.errorMessage!, /upstream broke the stream protocol/);
    });

    test('a malformed event before any content (streamMalformedAfter: 0): a transient failure, retried, then switched; one coherent answer', async () => {
      sim.addFaults(faultOn(primary, { streamMalformedAfter: 0 }));
      const res = await stream(klass);
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-llm-model'], secondary);
      assert.equal(res.headers['x-llm-fallback'], 'true');
      assert.equal(joinedContent(res.events), simReply(secondary, PROMPT));
      assert.equal(res.done, true);
      assert.deepEqual(callsByModel(sim), { [primary]: 2, [secondary]: 1 });
      const record = gw.records.at(-1)!;
      assert.deepEqual(
        record.attempts.map((a) => [a.model, a.category, a.code ?? null]),
        [
          [primary, 'transient', 'invalid_stream_event'],
          [primary, 'transient', 'invalid_stream_event'],
          [secondary, undefined, null],
        ],
      );
    });

    for (const kind of ['streamErrorAfter', 'streamCutAfter'] as const) {
      test(`${kind}: 0 (a 200 stream that fails before any content): retried, then switched; one coherent answer`, async () => {
        sim.addFaults(faultOn(primary, { [kind]: 0 }));
        const res = await stream(klass);
        assert.equal(res.status, 200);
        assert.equal(res.headers['x-llm-model'], secondary);
        assert.equal(res.headers['x-llm-fallback'], 'true');
        assert.equal(joinedContent(res.events), simReply(secondary, PROMPT));
        for (const chunk of chunksOf(res.events)) assert.equal(chunk.model, secondary);
        assert.equal(res.done, true);
        assert.deepEqual(callsByModel(sim), { [primary]: 2, [secondary]: 1 });
      });
    }
  });
}

test('every target fails before the first chunk: a plain HTTP error (JSON, not SSE) with the route summary', async () => {
  sim.addFaults([faultOn('oai-premium', { status: 500 }), faultOn('ant-premium', { status: 500 })]);
  const res = await stream('oai-first');
  assert.equal(res.status, 502);
  assert.match(String(res.headers['content-type']), /application\/json/);
  assert.equal(res.json.error.code, 'route_exhausted');
  assert.equal(res.headers['x-should-retry'], 'false');
  assert.deepEqual(callsByModel(sim), { 'oai-premium': 2, 'ant-premium': 2 });
});
