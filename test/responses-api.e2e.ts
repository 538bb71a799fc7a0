/**
 * OpenAI's Responses API through the gateway, with the official `openai`
 * client, the simulated providers and a real store (SQLite, PostgreSQL):
 * a chain of responses by previous_response_id that crosses a forced switch
 * to the Anthropic-format backup, which receives every earlier turn (read
 * back from the simulator), function calls and their outputs included;
 * streamed events in order; stored responses scoped to their tenant and key;
 * key scope and budget refusals and bad input in the OpenAI error shape.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import OpenAI from 'openai';
import { call, createKey, forEachStore, setBudget, simFault, simReply, startGw, startSim, testPolicy, until, type Gw, type SimulatorHandle, type SuiteStore } from './gateway-support/harness.js';
import type { StoreConfig } from '../apps/gateway/src/index.js';

const LOOKUP = { type: 'function' as const, name: 'lookup_order', description: 'Where an order is', parameters: { type: 'object', properties: { query: { type: 'string' } } }, strict: false };

/** What the simulator received, newest first (parsed bodies). */
async function received(sim: SimulatorHandle): Promise<Array<{ format: string; body: any }>> {
  const res = await fetch(`${sim.url}/_sim/requests`);
  return ((await res.json()) as { requests: Array<{ format: string; body: any }> }).requests;
}

/** The error a call is refused with, as the openai client raises it. */
async function refusal(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return err;
    throw err;
  }
  throw new Error('the call was not refused');
}

function responsesSuite(name: string, storeFor: () => Promise<SuiteStore>) {
  describe(`Responses API on ${name}`, () => {
    let sim: SimulatorHandle;
    let gw: Gw;
    let store: StoreConfig;
    let skip: string | undefined;
    let cleanup: () => Promise<void> = async () => undefined;
    let acme: { id: string; key: string };
    let client: OpenAI;
    const clientFor = (apiKey: string, headers: Record<string, string> = {}) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0, defaultHeaders: headers });

    before(async () => {
      const suiteStore = await storeFor();
      if ('skip' in suiteStore) {
        skip = suiteStore.skip;
        return;
      }
      cleanup = suiteStore.cleanup;
      store = suiteStore.store;
      sim = await startSim();
      gw = await startGw(sim, { store });
      acme = await createKey(gw, { tenant: 'acme', name: 'responses' });
      client = clientFor(acme.key);
    });
    after(async () => {
      await gw?.close();
      await sim?.close();
      await cleanup();
    });
    beforeEach(() => {
      sim?.clearFaults();
      sim?.resetStats();
    });

    test('a chain of three responses crosses a forced switch: the Anthropic-format backup receives every earlier turn, the function call and its output included', async (t) => {
      if (skip) return t.skip(skip);
      const first = await client.responses.create({ model: 'auto', instructions: 'Be formal.', input: 'My order is 1234.' }).withResponse();
      assert.equal(first.response.headers.get('x-llm-model'), 'premium-a');
      const r1 = first.data;
      assert.match(r1.id, /^resp_[0-9a-f]{48}$/);
      assert.equal(r1.object, 'response');
      assert.equal(r1.status, 'completed');
      assert.equal(r1.model, 'premium-a');
      assert.equal(r1.output_text, simReply('premium-a', 'My order is 1234.'));
      assert.ok(r1.usage!.input_tokens > 0 && r1.usage!.output_tokens > 0);
      assert.equal(r1.usage!.total_tokens, r1.usage!.input_tokens + r1.usage!.output_tokens);

      const r2 = await client.responses.create({ previous_response_id: r1.id, input: 'Where is it?', tools: [LOOKUP] });
      assert.equal(r2.previous_response_id, r1.id);
      const fnCall = r2.output.find((item) => item.type === 'function_call');
      assert.ok(fnCall && fnCall.type === 'function_call', JSON.stringify(r2.output));
      assert.equal(fnCall.name, 'lookup_order');
      assert.deepEqual(JSON.parse(fnCall.arguments), { query: 'Where is it?' });
      assert.match(fnCall.id!, /^fc_/);

      // The primary fails from here on: the third response is served by the backup, on the Anthropic wire format.
      sim.addFaults({ match: { model: 'up-premium-a' }, fault: { error: 'overloaded' } });
      const third = await client.responses
        .create({ previous_response_id: r2.id, instructions: 'Answer briefly.', input: [{ type: 'function_call_output', call_id: fnCall.call_id, output: 'shipped on Monday' }], tools: [LOOKUP] })
        .withResponse();
      assert.equal(third.response.headers.get('x-llm-model'), 'premium-b');
      assert.equal(third.response.headers.get('x-llm-provider'), 'an');
      assert.equal(third.response.headers.get('x-llm-fallback'), 'true');
      assert.equal(third.response.headers.get('x-llm-attempts'), '2');
      const r3 = third.data;
      assert.equal(r3.model, 'premium-b');
      assert.equal(r3.output_text, 'Tool said: shipped on Monday');

      // What the backup was sent: the current instructions (not the first's), then every earlier turn, ids kept.
      const [backup, primary] = await received(sim);
      assert.equal(backup!.format, 'anthropic');
      assert.equal(primary!.format, 'openai', 'the primary was tried first');
      assert.equal(backup!.body.system, 'Answer briefly.');
      assert.deepEqual(backup!.body.messages, [
        { role: 'user', content: 'My order is 1234.' },
        { role: 'assistant', content: simReply('premium-a', 'My order is 1234.') },
        { role: 'user', content: 'Where is it?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: fnCall.call_id, name: 'lookup_order', input: { query: 'Where is it?' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: fnCall.call_id, content: 'shipped on Monday' }] },
      ]);
      assert.deepEqual(backup!.body.tools, [{ name: 'lookup_order', description: 'Where an order is', input_schema: LOOKUP.parameters }]);

      // The call's routing record is the key's, as on /v1/chat/completions.
      const record = gw.records.find((r) => r.requestId === third.response.headers.get('x-llm-request-id'));
      assert.equal(record?.tenant, 'acme');
      assert.equal(record.fallback, true);
      assert.equal(record.trafficClass, 'general');
      assert.equal(record.outcome, 'success');
      // The chain's calls share its first response's id as their session label.
      const sessions = [first.response, third.response].map((res) => gw.records.find((r) => r.requestId === res.headers.get('x-llm-request-id'))?.session);
      assert.deepEqual(sessions, [r1.id, r1.id]);
      const stored = await call(gw.url, `/v1/records/${record.requestId}`, { key: acme.key });
      assert.equal(stored.status, 200);
      assert.equal(stored.json.keyId, acme.id);

      // The items r3 was generated from, oldest first, paged by the client (two per page): every earlier turn, then its own input.
      const items: Array<{ id: string; type: string; role?: string }> = [];
      for await (const item of client.responses.inputItems.list(r3.id, { order: 'asc', limit: 2 })) items.push(item as { id: string; type: string; role?: string });
      assert.deepEqual(
        items.map((item) => (item.type === 'message' ? `${item.role} message` : item.type)),
        ['user message', 'assistant message', 'user message', 'function_call', 'function_call_output'],
      );
      assert.ok(items.every((item) => /^(msg|fc|fco)_/.test(item.id)), 'every item has an id');
      assert.equal(items[3]!.id, fnCall.id);
      const newest = await client.responses.inputItems.list(r3.id, { limit: 1 });
      assert.equal(newest.data[0]!.type, 'function_call_output');
      assert.equal(newest.has_more, true);

      // Stored on the SQL store: a new gateway on the same store retrieves the chain's last response and continues it.
      await gw.close();
      sim.clearFaults();
      gw = await startGw(sim, { store });
      client = clientFor(acme.key);
      const again = await client.responses.retrieve(r3.id);
      assert.deepEqual(again.output, r3.output);
      assert.equal(again.previous_response_id, r2.id);
      const r4 = await client.responses.create({ previous_response_id: r3.id, input: 'Thanks!' });
      assert.equal(r4.model, 'premium-a');
      const [fourth] = await received(sim);
      assert.deepEqual(
        fourth!.body.messages.map((m: { role: string }) => m.role),
        ['user', 'assistant', 'user', 'assistant', 'tool', 'assistant', 'user'],
        'every earlier turn, the backup\'s answer included',
      );
      assert.equal(fourth!.body.messages[5].content, 'Tool said: shipped on Monday');
    });

    test('streaming: the typed events in order as the client parses them, the routing headers, the response stored before response.completed', async (t) => {
      if (skip) return t.skip(skip);
      const { data: stream, response } = await client.responses.create({ input: 'stream this please', stream: true }).withResponse();
      assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      assert.equal(response.headers.get('x-llm-model'), 'premium-a');
      const events: any[] = [];
      for await (const event of stream) events.push(event);
      const types = events.map((e) => e.type);
      const deltas = types.filter((type) => type === 'response.output_text.delta').length;
      assert.ok(deltas > 1, 'the text comes in several deltas');
      assert.deepEqual(types, [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        ...Array(deltas).fill('response.output_text.delta'),
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ]);
      assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
      const text = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta).join('');
      assert.equal(text, simReply('premium-a', 'stream this please'));
      const completed = events[events.length - 1].response;
      assert.equal(completed.status, 'completed');
      assert.equal(completed.id, events[0].response.id);
      assert.ok(completed.usage.output_tokens > 0);
      // Retrievable at once: it was stored before the last event.
      const retrieved = await client.responses.retrieve(completed.id);
      assert.deepEqual(retrieved.output, completed.output);

      // The stream() helper assembles the same events into the final response; a streamed function call too.
      const helper = client.responses.stream({ previous_response_id: completed.id, input: 'find order 77', tools: [LOOKUP] });
      const seen: string[] = [];
      helper.on('event', (event) => seen.push(event.type));
      const final = await helper.finalResponse();
      assert.deepEqual(seen.filter((type) => !type.endsWith('.delta')), [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.completed',
      ]);
      assert.ok(seen.includes('response.function_call_arguments.delta'));
      const fn = final.output[0]!;
      assert.equal(fn.type, 'function_call');
      assert.deepEqual(JSON.parse((fn as { arguments: string }).arguments), { query: 'find order 77' });
      const [sent] = await received(sim);
      assert.deepEqual(sent!.body.messages.map((m: { content: unknown }) => m.content), ['stream this please', simReply('premium-a', 'stream this please'), 'find order 77']);
    });

    test('the request\'s needs apply as on chat completions: an image needs a vision model, and this route has none', async (t) => {
      if (skip) return t.skip(skip);
      const refused = await refusal(client.responses.create({ input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/a.png', detail: 'auto' }] }] }));
      assert.equal(refused.status, 422);
      assert.equal(refused.code, 'quality_floor_unmet');
      assert.match(refused.message, /vision/);
      assert.equal(sim.stats().requests, 0);
    });

    test('a stream that breaks after its first event ends with response.failed, and is not stored', async (t) => {
      if (skip) return t.skip(skip);
      const stream = await client.responses.create({ input: `cut me ${simFault('premium-a', { streamErrorAfter: 2 })}`, stream: true });
      const events: any[] = [];
      for await (const event of stream) events.push(event);
      const last = events[events.length - 1];
      assert.equal(last.type, 'response.failed');
      assert.equal(last.response.status, 'failed');
      assert.equal(typeof last.response.error.code, 'string');
      assert.ok(events.some((e) => e.type === 'response.output_text.delta'));
      assert.equal((await refusal(client.responses.retrieve(last.response.id))).status, 404);
    });

    test('a client that hangs up mid-stream aborts the upstream call, and nothing is stored', async (t) => {
      if (skip) return t.skip(skip);
      sim.addFaults({ match: { model: 'up-premium-a' }, fault: { chunkDelayMs: 300 } });
      const abort = new AbortController();
      const res = await fetch(`${gw.url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${acme.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ input: 'a slow answer', stream: true }),
        signal: abort.signal,
      });
      assert.equal(res.status, 200);
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('response.output_text.delta')) {
        const { value, done } = await reader.read();
        assert.ok(!done, 'the stream ended before its first delta');
        text += new TextDecoder().decode(value);
      }
      const id = /"id":"(resp_[0-9a-f]+)"/.exec(text)![1]!;
      abort.abort();
      await until(() => sim.stats().clientAborts === 1, 'the simulator to see the upstream call aborted');
      assert.equal((await refusal(client.responses.retrieve(id))).status, 404);
    });

    test('stored responses are the creating key\'s: another tenant, or another key of the tenant, gets 404; store:false is neither retrievable nor continued; a deleted one is gone', async (t) => {
      if (skip) return t.skip(skip);
      const mine = await client.responses.create({ input: 'private', metadata: { ticket: 'T-1' } });
      assert.deepEqual(mine.metadata, { ticket: 'T-1' });
      assert.equal(storeFlag(mine), true);
      const other = clientFor((await createKey(gw, { tenant: 'globex' })).key);
      const sibling = clientFor((await createKey(gw, { tenant: 'acme', name: 'second key' })).key);
      for (const stranger of [other, sibling]) {
        const get = await refusal(stranger.responses.retrieve(mine.id));
        assert.equal(get.status, 404);
        assert.equal(get.code, 'not_found');
        const before = sim.stats().requests;
        const cont = await refusal(stranger.responses.create({ previous_response_id: mine.id, input: 'continue theirs' }));
        assert.equal(cont.status, 404);
        assert.equal(cont.code, 'previous_response_not_found');
        assert.equal(cont.param, 'previous_response_id');
        assert.equal(sim.stats().requests, before, 'no upstream call');
        assert.equal((await refusal(stranger.responses.delete(mine.id))).status, 404);
        assert.equal((await refusal(stranger.responses.inputItems.list(mine.id))).status, 404);
      }
      assert.equal((await client.responses.retrieve(mine.id)).id, mine.id);
      // The tenant is always the key's: an x-tenant-id header changes nothing.
      const spoofed = await clientFor(acme.key, { 'x-tenant-id': 'globex' }).responses.create({ input: 'as someone else?' }).withResponse();
      assert.equal(gw.records.find((r) => r.requestId === spoofed.response.headers.get('x-llm-request-id'))?.tenant, 'acme');
      assert.equal((await client.responses.retrieve(spoofed.data.id)).id, spoofed.data.id);
      assert.equal((await refusal(other.responses.retrieve(spoofed.data.id))).status, 404);

      const unstored = await client.responses.create({ input: 'forget me', store: false });
      assert.equal(storeFlag(unstored), false);
      assert.equal((await refusal(client.responses.retrieve(unstored.id))).status, 404);
      assert.equal((await refusal(client.responses.create({ previous_response_id: unstored.id, input: 'more' }))).status, 404);

      const next = await client.responses.create({ previous_response_id: mine.id, input: 'next' });
      await client.responses.delete(mine.id);
      assert.equal((await refusal(client.responses.retrieve(mine.id))).status, 404);
      // The chain through a deleted response cannot be rebuilt: refused, never continued without its start.
      const broken = await refusal(client.responses.create({ previous_response_id: next.id, input: 'after the deletion' }));
      assert.equal(broken.status, 404);
      assert.match(broken.message, /was deleted/);
    });

    test('key scopes and budgets refuse as on chat completions, in the OpenAI error shape, before any upstream call', async (t) => {
      if (skip) return t.skip(skip);
      const scoped = await createKey(gw, { tenant: 'acme', allowedClasses: ['cheap'] });
      const model = await refusal(clientFor(scoped.key).responses.create({ model: 'premium-a', input: 'hi' }));
      assert.equal(model.status, 403);
      assert.equal(model.code, 'model_not_allowed');
      assert.equal(model.type, 'permission_error');
      assert.equal(model.param, 'model');
      const cls = await refusal(clientFor(scoped.key, { 'x-traffic-class': 'general' }).responses.create({ input: 'hi' }));
      assert.equal(cls.status, 403);
      assert.equal(cls.code, 'traffic_class_not_allowed');
      const served = await clientFor(scoped.key).responses.create({ input: 'cheap one' }).withResponse();
      assert.equal(served.response.headers.get('x-llm-traffic-class'), 'cheap');
      assert.equal(served.data.model, served.response.headers.get('x-llm-model'));
      assert.ok(['economy-1', 'standard-1'].includes(served.data.model), 'a model of the cheap route');

      // The quality floor refuses as it does on chat completions: same status, same code, no upstream call.
      const floored = await createKey(gw, { tenant: 'acme', allowedClasses: ['floored'] });
      sim.resetStats();
      const viaResponses = await call(gw.url, '/v1/responses', { key: floored.key, body: { input: 'premium please' } });
      const viaChat = await call(gw.url, '/v1/chat/completions', { key: floored.key, body: { messages: [{ role: 'user', content: 'premium please' }] } });
      assert.ok(viaResponses.status >= 400 && viaResponses.status < 500, viaResponses.text);
      assert.deepEqual([viaResponses.status, viaResponses.json.error.code, viaResponses.json.error.type], [viaChat.status, viaChat.json.error.code, viaChat.json.error.type]);
      assert.equal(sim.stats().requests, 0);

      // A budgeted tenant's position comes back in the same headers.
      const rich = await createKey(gw, { tenant: 'rich' });
      await setBudget(gw, 'rich', { budgetUsd: 10 });
      const budgeted = await clientFor(rich.key).responses.create({ input: 'hello' }).withResponse();
      assert.equal(budgeted.response.headers.get('x-llm-budget-tier'), 'normal');
      assert.ok(Number(budgeted.response.headers.get('x-llm-cost-usd')) > 0);

      const poor = await createKey(gw, { tenant: 'poor' });
      await setBudget(gw, 'poor', { budgetUsd: 0.000001 });
      sim.resetStats();
      const quota = await refusal(clientFor(poor.key).responses.create({ input: 'expensive' }));
      assert.equal(quota.status, 402);
      assert.equal(quota.code, 'insufficient_quota');
      assert.equal(quota.headers?.get('x-should-retry'), 'false');
      // Streamed, the refusal comes before the first event: a proper HTTP error, not an event.
      const streamed = await call(gw.url, '/v1/responses', { key: poor.key, body: { input: 'expensive', stream: true } });
      assert.equal(streamed.status, 402);
      assert.equal(streamed.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(streamed.json.error.code, 'insufficient_quota');
      assert.equal(sim.stats().requests, 0);
    });

    test('bad input: a 400 naming the parameter; no key: 401', async (t) => {
      if (skip) return t.skip(skip);
      const cases: Array<[unknown, string, string]> = [
        [{ input: 'hi', reasoning: { effort: 'high' } }, 'unsupported_parameter', 'reasoning'],
        [{ input: 'hi', tools: [{ type: 'web_search' }] }, 'unsupported_tool_type', 'tools[0].type'],
        [{ input: [{ type: 'function_call_output', call_id: 'call_nope', output: 'x' }] }, 'invalid_value', 'input[0].call_id'],
        [{ input: [{ role: 'user', content: [{ type: 'input_text' }] }] }, 'invalid_value', 'input[0].content[0].text'],
        [{ input: 'hi', max_output_tokens: -1 }, 'invalid_value', 'max_output_tokens'],
        [{ model: 'auto' }, 'invalid_value', 'input'],
      ];
      const badPage = await call(gw.url, '/v1/responses/resp_x/input_items?limit=500', { key: acme.key });
      assert.equal(badPage.status, 400);
      assert.equal(badPage.json.error.param, 'limit');
      for (const [body, code, param] of cases) {
        const res = await call(gw.url, '/v1/responses', { key: acme.key, body });
        assert.equal(res.status, 400, res.text);
        assert.deepEqual({ ...res.json.error, message: typeof res.json.error.message }, { message: 'string', type: 'invalid_request_error', code, param });
      }
      const malformed = await call(gw.url, '/v1/responses', { key: acme.key, raw: '{"input":' });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.json.error.type, 'invalid_request_error');
      const noKey = await call(gw.url, '/v1/responses', { body: { input: 'hi' } });
      assert.equal(noKey.status, 401);
      assert.equal(noKey.json.error.code, 'missing_api_key');
      assert.equal(sim.stats().requests, 0);
    });
  });
}

/** The response's `store` (on the wire; the client's type leaves it out). */
function storeFlag(response: object): unknown {
  return (response as { store?: unknown }).store;
}

forEachStore(responsesSuite);

describe('Responses API with authentication disabled, every model vision-capable', () => {
  let sim: SimulatorHandle;
  let gw: Gw;
  before(async () => {
    sim = await startSim();
    // Every model can see images here.
    const policy = testPolicy(sim.url);
    for (const model of Object.values(policy.models)) model.capabilities = [...(model.capabilities ?? []), 'vision'];
    gw = await startGw(sim, { auth: 'disabled', router: { policy } });
  });
  after(async () => {
    await gw?.close();
    await sim?.close();
  });

  const as = (tenant?: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0, defaultHeaders: tenant ? { 'x-tenant-id': tenant } : {} });

  test('the tenant of x-tenant-id owns its responses: another tenant (or none) gets 404', async () => {
    const mine = await as('north').responses.create({ input: 'hello' });
    assert.equal((await as('north').responses.retrieve(mine.id)).id, mine.id);
    assert.equal((await as('north').responses.create({ previous_response_id: mine.id, input: 'again' })).status, 'completed');
    assert.equal((await refusal(as('south').responses.retrieve(mine.id))).status, 404);
    assert.equal((await refusal(as().responses.create({ previous_response_id: mine.id, input: 'theirs' }))).status, 404);
  });

  test('an image in the input reaches an Anthropic-format target as an image block, across a switch', async () => {
    sim.addFaults({ match: { model: 'up-premium-a' }, fault: { error: 'overloaded' } });
    const image = 'data:image/png;base64,iVBORw0KGgo=';
    const r = await as('north').responses.create({ input: [{ role: 'user', content: [{ type: 'input_text', text: 'What is in this picture?' }, { type: 'input_image', image_url: image, detail: 'low' }] }] });
    assert.equal(r.model, 'premium-b');
    const [sent] = await received(sim);
    assert.equal(sent!.format, 'anthropic');
    assert.deepEqual(sent!.body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] },
    ]);
    const [item] = (await as('north').responses.inputItems.list(r.id)).data;
    assert.deepEqual((item as { content: unknown }).content, [{ type: 'input_text', text: 'What is in this picture?' }, { type: 'input_image', image_url: image, detail: 'low' }]);
  });
});
