import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ERROR_KINDS, type ErrorKind } from './fault-rules.js';
import { startSimulator, type SimulatorHandle } from './simulator.server.js';
import { ANTHROPIC_HEADERS, call, parseSse, postJson, type SseFrame } from './spec-helpers.js';

let sim: SimulatorHandle;
let url: string;

before(async () => {
  sim = await startSimulator();
  url = `${sim.url}/anthropic/v1/messages`;
});
after(() => sim.close());
beforeEach(() => {
  sim.clearFaults();
  sim.resetStats();
});

const MODEL = 'claude-sonnet-4-5';
const hello = { model: MODEL, max_tokens: 256, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello there, simulator!' }] };
const tools = [{ name: 'search', description: 'search the web', input_schema: { type: 'object' } }];
const post = (body: unknown, headers: Record<string, string> = ANTHROPIC_HEADERS) => postJson(url, body, headers);

/** Checks the real event order and that each frame's data type equals its event name. */
function eventsOf(body: string): Array<SseFrame & { json: any }> {
  const frames = parseSse(body).map((f) => ({ ...f, json: JSON.parse(f.data) }));
  for (const f of frames) assert.equal(f.json.type, f.event);
  const names = frames.map((f) => f.event);
  const deltas = names.filter((n) => n === 'content_block_delta').length;
  assert.ok(deltas > 0);
  assert.deepEqual(names, [
    'message_start',
    'content_block_start',
    'ping',
    ...Array<string>(deltas).fill('content_block_delta'),
    'content_block_stop',
    'message_delta',
    'message_stop',
  ]);
  return frames;
}

describe('Anthropic format: replies', () => {
  it('answers a Messages JSON reply with usage and headers', async () => {
    const res = await post(hello);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-sim-model'], MODEL);
    assert.match(String(res.headers['request-id']), /^req_sim_\d+$/);
    const text = `Simulated reply from ${MODEL}: Hello there, simulator!`;
    assert.equal(res.json.type, 'message');
    assert.equal(res.json.role, 'assistant');
    assert.equal(res.json.model, MODEL);
    assert.deepEqual(res.json.content, [{ type: 'text', text }]);
    assert.equal(res.json.stop_reason, 'end_turn');
    assert.equal(res.json.stop_sequence, null);
    assert.equal(res.json.usage.input_tokens, Math.ceil(('Be brief.'.length + 'Hello there, simulator!'.length) / 4));
    assert.equal(res.json.usage.output_tokens, Math.ceil(text.length / 4));
  });

  it('reads text blocks of the last user message', async () => {
    const res = await post({
      ...hello,
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
        { role: 'user', content: [{ type: 'text', text: 'second question' }] },
      ],
    });
    assert.equal(res.json.content[0].text, `Simulated reply from ${MODEL}: second question`);
  });

  it('streams the real event sequence, with text deltas matching the JSON reply', async () => {
    const res = await call(url, { body: { ...hello, stream: true }, headers: ANTHROPIC_HEADERS });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    const frames = eventsOf(res.body);
    const start = frames[0]!.json.message;
    assert.equal(start.model, MODEL);
    assert.deepEqual(start.content, []);
    assert.equal(start.usage.input_tokens, Math.ceil(('Be brief.'.length + 'Hello there, simulator!'.length) / 4));
    assert.deepEqual(frames[1]!.json.content_block, { type: 'text', text: '' });
    const deltas = frames.filter((f) => f.event === 'content_block_delta');
    assert.equal(deltas.length, 8);
    assert.ok(deltas.every((d) => d.json.delta.type === 'text_delta' && d.json.index === 0));
    const text = deltas.map((d) => d.json.delta.text).join('');
    assert.equal(text, `Simulated reply from ${MODEL}: Hello there, simulator!`);
    const delta = frames.find((f) => f.event === 'message_delta')!.json;
    assert.equal(delta.delta.stop_reason, 'end_turn');
    assert.equal(delta.usage.output_tokens, Math.ceil(text.length / 4));
  });

  it('usageScale reports that many times the tokens counted, in JSON and in the stream', async () => {
    const plain = (await post(hello)).json.usage;
    const fault = { ...ANTHROPIC_HEADERS, 'x-sim-fault': '{"usageScale":4}' };
    const scaled = (await post(hello, fault)).json.usage;
    assert.deepEqual([scaled.input_tokens, scaled.output_tokens], [4 * plain.input_tokens, 4 * plain.output_tokens]);
    const frames = eventsOf((await call(url, { body: { ...hello, stream: true }, headers: fault })).body);
    assert.equal(frames[0]!.json.message.usage.input_tokens, 4 * plain.input_tokens);
    assert.equal(frames.find((f) => f.event === 'message_delta')!.json.usage.output_tokens, 4 * plain.output_tokens);
  });

  it('replies with a tool_use block when tools are offered', async () => {
    const res = await post({ ...hello, tools });
    assert.equal(res.json.stop_reason, 'tool_use');
    assert.equal(res.json.content.length, 1);
    const block = res.json.content[0];
    assert.equal(block.type, 'tool_use');
    assert.equal(block.name, 'search');
    assert.match(block.id, /^toolu_sim_\d+$/);
    assert.deepEqual(block.input, { query: 'Hello there, simulator!' });
  });

  it('honours tool_choice none and tool', async () => {
    const none = await post({ ...hello, tools, tool_choice: { type: 'none' } });
    assert.equal(none.json.stop_reason, 'end_turn');
    const named = await post({ ...hello, tools: [...tools, { name: 'lookup', input_schema: {} }], tool_choice: { type: 'tool', name: 'lookup' } });
    assert.equal(named.json.content[0].name, 'lookup');
  });

  it('streams a tool_use block with input_json_delta events', async () => {
    const res = await call(url, { body: { ...hello, tools, stream: true }, headers: ANTHROPIC_HEADERS });
    const frames = eventsOf(res.body);
    assert.equal(frames[1]!.json.content_block.type, 'tool_use');
    assert.equal(frames[1]!.json.content_block.name, 'search');
    const json = frames
      .filter((f) => f.event === 'content_block_delta')
      .map((f) => {
        assert.equal(f.json.delta.type, 'input_json_delta');
        return f.json.delta.partial_json;
      })
      .join('');
    assert.deepEqual(JSON.parse(json), { query: 'Hello there, simulator!' });
    assert.equal(frames.find((f) => f.event === 'message_delta')!.json.delta.stop_reason, 'tool_use');
  });

  it('answers a tool_result with "Tool said"', async () => {
    const res = await post({
      ...hello,
      tools,
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'search', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'sunny, 21C' }] }] },
      ],
    });
    assert.deepEqual(res.json.content, [{ type: 'text', text: 'Tool said: sunny, 21C' }]);
    assert.equal(res.json.stop_reason, 'end_turn');
  });
});

const ANTHROPIC_ERRORS: Record<ErrorKind, { status: number; type: string; message: RegExp }> = {
  rate_limit: { status: 429, type: 'rate_limit_error', message: /rate limit/ },
  quota: { status: 400, type: 'invalid_request_error', message: /^Your credit balance is too low to access the Anthropic API\. Please go to Plans & Billing to upgrade or purchase credits\.$/ },
  overloaded: { status: 529, type: 'overloaded_error', message: /^Overloaded$/ },
  server_error: { status: 500, type: 'api_error', message: /./ },
  bad_gateway: { status: 502, type: 'api_error', message: /./ },
  auth: { status: 401, type: 'authentication_error', message: /^invalid x-api-key$/ },
  forbidden: { status: 403, type: 'permission_error', message: /permission/ },
  model_not_found: { status: 404, type: 'not_found_error', message: new RegExp(`^model: ${MODEL}$`) },
  context_length: { status: 400, type: 'invalid_request_error', message: /^prompt is too long: 208310 tokens > 200000 maximum$/ },
  content_filter: { status: 400, type: 'invalid_request_error', message: /^Output blocked by content filtering policy$/ },
  invalid_request: { status: 400, type: 'invalid_request_error', message: /./ },
};

describe('Anthropic format: errors', () => {
  for (const kind of ERROR_KINDS) {
    it(`error ${kind} has the real status and body`, async () => {
      sim.addFaults({ match: { format: 'anthropic' }, fault: { error: kind } });
      const res = await post(hello);
      const want = ANTHROPIC_ERRORS[kind];
      assert.equal(res.status, want.status);
      assert.equal(res.headers['x-sim-model'], MODEL);
      assert.equal(res.json.type, 'error');
      assert.equal(res.json.error.type, want.type);
      assert.match(res.json.error.message, want.message);
    });
  }

  it('uses the generic body for a bare status', async () => {
    sim.addFaults([{ times: 1, fault: { status: 529 } }, { times: 1, fault: { status: 403 } }, { times: 1, fault: { status: 503 } }]);
    assert.equal((await post(hello)).json.error.type, 'overloaded_error');
    assert.equal((await post(hello)).json.error.type, 'permission_error');
    const res = await post(hello);
    assert.equal(res.status, 503);
    assert.equal(res.json.error.type, 'api_error');
  });

  it('sends event: error with overloaded_error inside the 200 stream (streamErrorAfter)', async () => {
    sim.addFaults({ fault: { streamErrorAfter: 2 } });
    const res = await call(url, { body: { ...hello, stream: true }, headers: ANTHROPIC_HEADERS });
    assert.equal(res.status, 200);
    const frames = parseSse(res.body);
    assert.deepEqual(
      frames.map((f) => f.event),
      ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta', 'error'],
    );
    assert.deepEqual(JSON.parse(frames.at(-1)!.data), { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });
});

describe('Anthropic format: a malformed event inside the 200 stream (streamMalformedAfter)', () => {
  it('sends N content deltas, a delta whose data is JSON cut short, then the rest of the stream', async () => {
    sim.addFaults({ fault: { streamMalformedAfter: 1, chunks: 2 } });
    const res = await call(url, { body: { ...hello, stream: true }, headers: ANTHROPIC_HEADERS });
    assert.equal(res.status, 200);
    const frames = parseSse(res.body);
    assert.deepEqual(
      frames.map((f) => f.event),
      ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
    );
    assert.throws(() => JSON.parse(frames[4]!.data));
  });
});

describe('Anthropic format: bad input', () => {
  it('requires the anthropic-version header', async () => {
    const res = await post(hello, { 'x-api-key': 'k' });
    assert.equal(res.status, 400);
    assert.deepEqual(res.json, { type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } });
  });

  const cases: Array<[string, unknown, RegExp]> = [
    ['invalid JSON', '{"model":', /valid JSON/],
    ['a non-object body', '"hi"', /dictionary/],
    ['a missing model', { max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, /^model: Field required$/],
    ['a missing max_tokens', { model: MODEL, messages: [{ role: 'user', content: 'x' }] }, /^max_tokens: Field required$/],
    ['a fractional max_tokens', { ...hello, max_tokens: 1.5 }, /max_tokens: Input should be a valid integer/],
    ['missing messages', { model: MODEL, max_tokens: 5 }, /^messages: Field required$/],
    ['empty messages', { ...hello, messages: [] }, /at least one message/],
    ['a bad role', { ...hello, messages: [{ role: 'system', content: 'x' }] }, /messages\.0\.role/],
    ['missing content', { ...hello, messages: [{ role: 'user' }] }, /messages\.0\.content: Field required/],
  ];
  for (const [name, body, message] of cases) {
    it(`answers 400 invalid_request_error for ${name}`, async () => {
      const res = await post(body);
      assert.equal(res.status, 400);
      assert.equal(res.json.type, 'error');
      assert.equal(res.json.error.type, 'invalid_request_error');
      assert.match(res.json.error.message, message);
    });
  }

  it('answers 404 not_found_error under /anthropic', async () => {
    const res = await call(`${sim.url}/anthropic/v1/complete`, { body: {} });
    assert.equal(res.status, 404);
    assert.equal(JSON.parse(res.body).error.type, 'not_found_error');
  });
});
