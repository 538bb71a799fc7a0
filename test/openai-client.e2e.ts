/**
 * The official `openai` npm client against the gateway: completions and
 * streams work, and a gateway error is not retried by the client (each one
 * carries `x-should-retry: false`), so upstream sees exactly the calls the
 * routing policy made.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import OpenAI from 'openai';
import { fastClass } from './support/policy.js';
import { gatewayPolicy, startGateway, type TestGateway } from './support/gateway.js';
import { simReply } from './support/router.js';
import { callsByModel, faultOn, resetSim, startSim, type SimulatorHandle } from './support/sim.js';

let sim: SimulatorHandle;
let gw: TestGateway;
let client: OpenAI;
/** Requests the client actually sent to the gateway (its own retries included). */
let sent: number;

before(async () => {
  sim = await startSim();
  gw = await startGateway(gatewayPolicy(sim.url, { general: fastClass('standard', ['oai-premium', 'ant-premium'], { retriesPerTarget: 1 }) }));
  client = new OpenAI({
    baseURL: `${gw.url}/v1`,
    apiKey: 'test',
    maxRetries: 2,
    fetch: (input, init) => {
      sent++;
      return fetch(input, init);
    },
  });
});
after(async () => {
  await gw.close();
  await sim.close();
});
beforeEach(() => {
  resetSim(sim);
  sent = 0;
});

test('a plain completion works, routing headers readable through withResponse()', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hello from the sdk' }] }).withResponse();
  assert.equal(data.choices[0]!.message.content, simReply('oai-premium', 'hello from the sdk'));
  assert.equal(data.model, 'oai-premium');
  assert.equal(data.usage?.completion_tokens, Math.ceil(simReply('oai-premium', 'hello from the sdk').length / 4));
  assert.equal(response.headers.get('x-llm-model'), 'oai-premium');
  assert.equal(response.headers.get('x-llm-fallback'), 'false');
  assert.equal(sent, 1);
  assert.deepEqual(callsByModel(sim), { 'oai-premium': 1 });
});

test('streaming works: the SDK iterates the chunks to one answer, usage chunk included on request', async () => {
  sim.addFaults(faultOn('oai-premium', { status: 503 }));
  const stream = await client.chat.completions.create({
    model: 'auto',
    messages: [{ role: 'user', content: 'stream from the sdk' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage: OpenAI.CompletionUsage | null | undefined;
  const models = new Set<string>();
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    models.add(chunk.model);
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, simReply('ant-premium', 'stream from the sdk'));
  assert.deepEqual([...models], ['ant-premium']);
  assert.equal(usage?.completion_tokens, Math.ceil(text.length / 4));
  assert.equal(sent, 1);
  assert.deepEqual(callsByModel(sim), { 'oai-premium': 2, 'ant-premium': 1 });
});

test('a 400 invalid_request from upstream reaches the gateway once: the client does not retry, upstream sees 1 call', async () => {
  sim.addFaults(faultOn('oai-premium', { error: 'invalid_request' }));
  const err = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'bad' }] }).then(
    () => assert.fail('expected a 400'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.BadRequestError, `expected BadRequestError, got ${String(err)}`);
  assert.equal(err.status, 400);
  assert.equal(err.message, "400 Invalid value for 'temperature': expected a number between 0 and 2, but got 3 instead.");
  assert.equal(err.headers?.get('x-should-retry'), 'false');
  assert.equal(sent, 1);
  assert.deepEqual(callsByModel(sim), { 'oai-premium': 1 });
});

test('a 502 route_exhausted carries x-should-retry: false, so the client (maxRetries 2) does not multiply the upstream calls', async () => {
  sim.addFaults([faultOn('oai-premium', { status: 500 }), faultOn('ant-premium', { status: 500 })]);
  const err = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'down' }] }).then(
    () => assert.fail('expected a 502'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.InternalServerError, `expected InternalServerError, got ${String(err)}`);
  assert.equal(err.status, 502);
  assert.equal(err.headers?.get('x-should-retry'), 'false');
  assert.equal(sent, 1);
  // Exactly the policy's calls (2 + 2), not three times as many.
  assert.deepEqual(callsByModel(sim), { 'oai-premium': 2, 'ant-premium': 2 });
});

test('a stream failing after content raises in the SDK iterator (no silent truncation), one upstream call', async () => {
  sim.addFaults(faultOn('oai-premium', { streamCutAfter: 2 }));
  const stream = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'cut' }], stream: true });
  let text = '';
  const err = await (async () => {
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  })().then(
    () => assert.fail('expected the iterator to throw'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.APIError, `expected APIError, got ${String(err)}`);
  assert.match(err.message, /stream interrupted/);
  assert.ok(text.length > 0);
  assert.ok(simReply('oai-premium', 'cut').startsWith(text));
  assert.equal(sent, 1);
  assert.deepEqual(callsByModel(sim), { 'oai-premium': 1 });
});
