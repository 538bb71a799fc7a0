/**
 * The official `openai` npm client against the gateway with a scoped API key:
 * plain, streaming and tool-calling completions, the routing and budget
 * headers through `.withResponse()`, `models.list()` limited to the key's
 * scope, a fallback seen from the client, and auth errors the client does not retry.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import OpenAI from 'openai';
import { createKey, setBudget, simFault, simReply, startGw, startSim, type CreatedKey, type Gw, type SimulatorHandle } from './gateway-support/harness.js';

let sim: SimulatorHandle;
let gw: Gw;
let key: CreatedKey;
let client: OpenAI;
let sent = 0;

function clientFor(apiKey: string, extra: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}): OpenAI {
  return new OpenAI({
    baseURL: `${gw.url}/v1`,
    apiKey,
    fetch: (input, init) => {
      sent++;
      return fetch(input, init);
    },
    ...extra,
  });
}

before(async () => {
  sim = await startSim();
  gw = await startGw(sim);
  key = await createKey(gw, { tenant: 'acme', name: 'sdk', allowedClasses: ['general', 'support-chat'], defaultClass: 'general' });
  await setBudget(gw, 'acme', { budgetUsd: 10 });
  client = clientFor(key.key);
});
after(async () => {
  await gw.close();
  await sim.close();
});
beforeEach(() => {
  sim.clearFaults();
  sim.resetStats();
  sent = 0;
});

test('plain completion: the answer, routing headers and budget headers through withResponse()', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hello from the sdk' }] }).withResponse();
  assert.equal(data.choices[0]!.message.content, simReply('premium-a', 'hello from the sdk'));
  assert.equal(response.headers.get('x-llm-model'), 'premium-a');
  assert.equal(response.headers.get('x-llm-provider'), 'oa');
  assert.equal(response.headers.get('x-llm-traffic-class'), 'general');
  assert.equal(response.headers.get('x-llm-fallback'), 'false');
  assert.equal(response.headers.get('x-llm-attempts'), '1');
  assert.match(response.headers.get('x-llm-request-id') ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(response.headers.get('x-llm-budget-tier'), 'normal');
  assert.ok(Number(response.headers.get('x-llm-budget-used')) >= 0);
  assert.equal(sent, 1);
  // The request id in the header is the routing record's, and so is the cost: the usage reported, at premium-a's price.
  const record = gw.records.find((r) => r.requestId === response.headers.get('x-llm-request-id'));
  assert.equal(record?.tenant, 'acme');
  assert.ok(record.costUsd > 0);
  assert.equal(response.headers.get('x-llm-cost-usd'), record.costUsd.toFixed(6));
  assert.equal(record.costUsd, (data.usage!.prompt_tokens * 3 + data.usage!.completion_tokens * 15) / 1e6);
});

test('the class comes from x-traffic-class when the key allows it, or from `model` naming the class', async () => {
  const viaHeader = await clientFor(key.key, { defaultHeaders: { 'x-traffic-class': 'support-chat' } })
    .chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], model: 'auto' })
    .withResponse();
  assert.equal(viaHeader.response.headers.get('x-llm-traffic-class'), 'support-chat');
  const viaModel = await client.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], model: 'support-chat' }).withResponse();
  assert.equal(viaModel.response.headers.get('x-llm-traffic-class'), 'support-chat');
});

test('streaming: the SDK iterates the chunks to one answer; headers come with the stream', async () => {
  const { data: stream, response } = await client.chat.completions
    .create({ model: 'auto', messages: [{ role: 'user', content: 'stream from the sdk' }], stream: true, stream_options: { include_usage: true } })
    .withResponse();
  let text = '';
  let usage: OpenAI.CompletionUsage | undefined | null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, simReply('premium-a', 'stream from the sdk'));
  assert.ok(usage && usage.completion_tokens > 0);
  assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(response.headers.get('x-llm-model'), 'premium-a');
  assert.equal(response.headers.get('x-llm-budget-tier'), 'normal');
  // The headers leave before the usage arrives: the cost is in the usage chunk and the routing record.
  assert.equal(response.headers.get('x-llm-cost-usd'), null);
});

test('a fallback, seen from the client: premium-a overloaded, premium-b serves, headers say so', async () => {
  const prompt = `watch the fallback ${simFault('premium-a', { error: 'overloaded' })}`;
  const { data, response } = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: prompt }] }).withResponse();
  assert.equal(response.headers.get('x-llm-model'), 'premium-b');
  assert.equal(response.headers.get('x-llm-provider'), 'an');
  assert.equal(response.headers.get('x-llm-fallback'), 'true');
  assert.equal(response.headers.get('x-llm-attempts'), '2');
  // Only the serving attempt is paid for: premium-b's price (the same as premium-a's in this policy) on its usage.
  assert.equal(response.headers.get('x-llm-cost-usd'), ((data.usage!.prompt_tokens * 3 + data.usage!.completion_tokens * 15) / 1e6).toFixed(6));
  assert.match(data.choices[0]!.message.content ?? '', /^Simulated reply from up-premium-b/);
  assert.equal(sent, 1);
});

test('tool calling: a tool call comes back, and the tool result gets an answer', async () => {
  const tools: OpenAI.ChatCompletionTool[] = [
    { type: 'function', function: { name: 'lookup_order', description: 'Find an order', parameters: { type: 'object', properties: { id: { type: 'string' } } } } },
  ];
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'where is order 42?' }];
  const first = await client.chat.completions.create({ model: 'auto', messages, tools });
  const choice = first.choices[0]!;
  assert.equal(choice.finish_reason, 'tool_calls');
  const call = choice.message.tool_calls?.[0];
  assert.ok(call && call.type === 'function');
  assert.equal(call.function.name, 'lookup_order');
  assert.doesNotThrow(() => JSON.parse(call.function.arguments));

  const second = await client.chat.completions.create({
    model: 'auto',
    tools,
    messages: [...messages, choice.message, { role: 'tool', tool_call_id: call.id, content: 'shipped yesterday' }],
  });
  assert.equal(second.choices[0]!.finish_reason, 'stop');
  assert.match(second.choices[0]!.message.content ?? '', /shipped yesterday/);
});

test('models.list(): only what the key may use, models and classes', async () => {
  const ids: string[] = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), ['general', 'premium-a', 'premium-b', 'support-chat']);
  const narrow = await createKey(gw, { tenant: 'acme', allowedClasses: ['batch-summaries'] });
  const narrowIds: string[] = [];
  for await (const m of clientFor(narrow.key).models.list()) narrowIds.push(m.id);
  assert.deepEqual(narrowIds.sort(), ['batch-summaries', 'economy-1', 'standard-1']);
});

describe('errors through the client', () => {
  test('a bad key: AuthenticationError (401), sent once, never retried', async () => {
    const bad = clientFor('llmr_aaaaaaaaaaaa_' + 'A'.repeat(43));
    await assert.rejects(bad.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.AuthenticationError);
      assert.equal(err.status, 401);
      assert.equal((err.error as { code?: string }).code, 'invalid_api_key');
      return true;
    });
    assert.equal(sent, 1);
    assert.equal(sim.stats().requests, 0);
  });

  test('a class outside the key: PermissionDeniedError (403), not retried, no upstream call', async () => {
    const c = clientFor(key.key, { defaultHeaders: { 'x-traffic-class': 'batch-summaries' } });
    await assert.rejects(c.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.PermissionDeniedError);
      assert.equal((err.error as { code?: string }).code, 'traffic_class_not_allowed');
      return true;
    });
    assert.equal(sent, 1);
    assert.equal(sim.stats().requests, 0);
  });

  test('a model outside the key: 403; a model that does not exist: 404', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'standard-1', messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.PermissionDeniedError);
      assert.equal((err.error as { code?: string }).code, 'model_not_allowed');
      return true;
    });
    await assert.rejects(client.chat.completions.create({ model: 'gpt-nope', messages: [{ role: 'user', content: 'hi' }] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.NotFoundError);
      assert.equal((err.error as { code?: string }).code, 'model_not_found');
      return true;
    });
    assert.equal(sim.stats().requests, 0);
  });
});
