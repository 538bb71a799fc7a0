import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ChatCompletion, ChatCompletionChunk } from '@llm-router/nestjs';
import { ERROR_KINDS, type ErrorKind } from './fault-rules.js';
import { startSimulator, type SimulatorHandle } from './simulator.server.js';
import { call, parseSse, postJson } from './spec-helpers.js';

let sim: SimulatorHandle;
let url: string;

before(async () => {
  sim = await startSimulator();
  url = `${sim.url}/openai/v1/chat/completions`;
});
after(() => sim.close());
beforeEach(() => {
  sim.clearFaults();
  sim.resetStats();
});

const hello = { model: 'gpt-4o', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there, simulator!' }] };
const tools = [{ type: 'function', function: { name: 'search', parameters: { type: 'object' } } }];

/** Checks the stream is well-formed and returns its chunks. */
function chunksOf(body: string, includeUsage = false): ChatCompletionChunk[] {
  const frames = parseSse(body);
  assert.ok(frames.every((f) => f.event === undefined));
  assert.equal(frames.at(-1)?.data, '[DONE]');
  const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.data) as ChatCompletionChunk);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id && c.model === 'gpt-4o'));
  assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
  const finishes = chunks.filter((c) => c.choices[0]?.finish_reason);
  assert.equal(finishes.length, 1, 'exactly one finish_reason');
  if (includeUsage) {
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage && last.usage.total_tokens > 0);
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null));
  } else {
    assert.ok(chunks.every((c) => c.usage === undefined));
  }
  return chunks;
}

describe('OpenAI format: replies', () => {
  it('answers JSON with the deterministic reply, echoed model, usage and headers', async () => {
    const res = await postJson(url, hello);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-sim-model'], 'gpt-4o');
    assert.match(String(res.headers['x-request-id']), /^req_sim_\d+$/);
    const body = res.json as ChatCompletion;
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'gpt-4o');
    const content = 'Simulated reply from gpt-4o: Hello there, simulator!';
    assert.deepEqual(body.choices[0]!.message, { role: 'assistant', content, refusal: null });
    assert.equal(body.choices[0]!.finish_reason, 'stop');
    const prompt = Math.ceil(('Be brief.'.length + 'Hello there, simulator!'.length) / 4);
    assert.deepEqual(body.usage, { prompt_tokens: prompt, completion_tokens: Math.ceil(content.length / 4), total_tokens: prompt + Math.ceil(content.length / 4) });
  });

  it('usageScale reports that many times the tokens counted, in JSON and in the stream\'s usage chunk', async () => {
    const plain = (await postJson(url, hello)).json as ChatCompletion;
    const scaled = await call(url, { body: hello, headers: { 'x-sim-fault': '{"usageScale":4}' } });
    const u = plain.usage!;
    const four = { prompt_tokens: 4 * u.prompt_tokens, completion_tokens: 4 * u.completion_tokens, total_tokens: 4 * u.total_tokens };
    assert.deepEqual((JSON.parse(scaled.body) as ChatCompletion).usage, four);
    const streamed = await call(url, { body: { ...hello, stream: true, stream_options: { include_usage: true } }, headers: { 'x-sim-fault': '{"usageScale":4}' } });
    assert.deepEqual(chunksOf(streamed.body, true).at(-1)!.usage, four);
  });

  it('uses only the first 60 characters of the last user text, including text parts', async () => {
    const long = 'a'.repeat(50) + 'b'.repeat(50);
    const res = await postJson(url, {
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: [{ type: 'text', text: long }, { type: 'image_url', image_url: { url: 'data:,' } }] },
      ],
    });
    assert.equal(res.json.choices[0].message.content, `Simulated reply from gpt-4o: ${'a'.repeat(50)}${'b'.repeat(10)}`);
  });

  it('streams well-formed SSE whose content matches the JSON reply, in ~8 chunks', async () => {
    const res = await call(url, { body: { ...hello, stream: true } });
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    assert.equal(res.headers['x-sim-model'], 'gpt-4o');
    const chunks = chunksOf(res.body);
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.equal(content, 'Simulated reply from gpt-4o: Hello there, simulator!');
    assert.equal(chunks.filter((c) => c.choices[0]?.delta.content).length, 8);
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'stop');
  });

  it('adds the usage chunk when stream_options.include_usage is set, and honours chunks', async () => {
    sim.addFaults({ chunks: 3, fault: {} });
    const res = await call(url, { body: { ...hello, stream: true, stream_options: { include_usage: true } } });
    const chunks = chunksOf(res.body, true);
    assert.equal(chunks.filter((c) => c.choices[0]?.delta.content).length, 3);
    const json = await postJson(url, hello);
    assert.deepEqual(chunks.at(-1)!.usage, json.json.usage);
  });

  it('calls the first tool when tools are offered and the last message is from the user', async () => {
    const res = await postJson(url, { ...hello, tools });
    const choice = res.json.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.tool_calls.length, 1);
    const call0 = choice.message.tool_calls[0];
    assert.match(call0.id, /^call_sim_\d+$/);
    assert.equal(call0.type, 'function');
    assert.equal(call0.function.name, 'search');
    assert.deepEqual(JSON.parse(call0.function.arguments), { query: 'Hello there, simulator!' });
  });

  it('honours tool_choice: a named function, or none', async () => {
    const two = [...tools, { type: 'function', function: { name: 'lookup' } }];
    const named = await postJson(url, { ...hello, tools: two, tool_choice: { type: 'function', function: { name: 'lookup' } } });
    assert.equal(named.json.choices[0].message.tool_calls[0].function.name, 'lookup');
    const none = await postJson(url, { ...hello, tools, tool_choice: 'none' });
    assert.equal(none.json.choices[0].finish_reason, 'stop');
  });

  it('streams tool-call deltas that reassemble into the arguments', async () => {
    const res = await call(url, { body: { ...hello, tools, stream: true } });
    const chunks = chunksOf(res.body);
    const first = chunks[0]!.choices[0]!.delta.tool_calls![0]!;
    assert.equal(first.function?.name, 'search');
    assert.match(String(first.id), /^call_sim_\d+$/);
    const args = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((t) => t.function?.arguments ?? '').join('');
    assert.deepEqual(JSON.parse(args), { query: 'Hello there, simulator!' });
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'tool_calls');
  });

  it('answers a tool result with "Tool said"', async () => {
    const res = await postJson(url, {
      model: 'gpt-4o',
      tools,
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'search', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny, 21C' },
      ],
    });
    assert.equal(res.json.choices[0].message.content, 'Tool said: sunny, 21C');
    assert.equal(res.json.choices[0].finish_reason, 'stop');
  });

  it('returns a JSON object string for response_format json_object', async () => {
    const res = await postJson(url, { ...hello, response_format: { type: 'json_object' } });
    assert.deepEqual(JSON.parse(res.json.choices[0].message.content), { reply: 'Simulated reply from gpt-4o: Hello there, simulator!' });
  });
});

const OPENAI_ERRORS: Record<ErrorKind, { status: number; type: string | null; code: string | number | null; message: RegExp }> = {
  rate_limit: { status: 429, type: 'requests', code: 'rate_limit_exceeded', message: /^Rate limit reached for gpt-4o/ },
  quota: { status: 429, type: 'insufficient_quota', code: 'insufficient_quota', message: /^You exceeded your current quota, please check your plan and billing details/ },
  overloaded: { status: 503, type: 'server_error', code: null, message: /^The engine is currently overloaded, please try again later$/ },
  server_error: { status: 500, type: 'server_error', code: null, message: /^The server had an error while processing your request\. Sorry about that!$/ },
  bad_gateway: { status: 502, type: 'cf_bad_gateway', code: 502, message: /Bad gateway/ },
  auth: { status: 401, type: 'invalid_request_error', code: 'invalid_api_key', message: /^Incorrect API key provided: sk-sim\*\*\*\. You can find your API key at https:\/\/platform\.openai\.com\/account\/api-keys\.$/ },
  forbidden: { status: 403, type: 'request_forbidden', code: 'unsupported_country_region_territory', message: /not supported/ },
  model_not_found: { status: 404, type: 'invalid_request_error', code: 'model_not_found', message: /^The model `gpt-4o` does not exist or you do not have access to it\.$/ },
  context_length: { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded', message: /^This model's maximum context length is 8192 tokens\. However, your messages resulted in 9000 tokens/ },
  content_filter: { status: 400, type: null, code: 'content_filter', message: /content management policy/ },
  invalid_request: { status: 400, type: 'invalid_request_error', code: null, message: /^Invalid value for 'temperature'/ },
};

describe('OpenAI format: errors', () => {
  for (const kind of ERROR_KINDS) {
    it(`error ${kind} has the real status and body`, async () => {
      sim.addFaults({ fault: { error: kind } });
      const res = await postJson(url, { ...hello, stream: true });
      const want = OPENAI_ERRORS[kind];
      assert.equal(res.status, want.status);
      assert.equal(res.headers['x-sim-model'], 'gpt-4o');
      assert.equal(res.json.error.type, want.type);
      assert.equal(res.json.error.code, want.code);
      assert.match(res.json.error.message, want.message);
      assert.ok('param' in res.json.error);
    });
  }

  it('carries the Azure content filter details and the temperature param', async () => {
    sim.addFaults([{ times: 1, fault: { error: 'content_filter' } }, { times: 1, fault: { error: 'invalid_request' } }]);
    const filtered = await postJson(url, hello);
    assert.equal(filtered.json.error.innererror.code, 'ResponsibleAIPolicyViolation');
    assert.equal(filtered.json.error.innererror.content_filter_result.violence.filtered, true);
    const invalid = await postJson(url, hello);
    assert.equal(invalid.json.error.param, 'temperature');
  });

  it('uses a generic body for a bare status, and error+status overrides the status only', async () => {
    sim.addFaults([
      { times: 1, fault: { status: 429 } },
      { times: 1, fault: { status: 504 } },
      { times: 1, fault: { error: 'overloaded', status: 500 } },
    ]);
    const a = await postJson(url, hello);
    assert.equal(a.status, 429);
    assert.equal(a.json.error.code, 'rate_limit_exceeded');
    const b = await postJson(url, hello);
    assert.equal(b.status, 504);
    assert.equal(b.json.error.type, 'server_error');
    const c = await postJson(url, hello);
    assert.equal(c.status, 500);
    assert.match(c.json.error.message, /overloaded/);
  });

  it('sends the override body: JSON as JSON, strings verbatim', async () => {
    sim.addFaults([
      { times: 1, fault: { status: 418, body: { custom: true } } },
      { times: 1, fault: { status: 502, body: '<html>502 Bad Gateway</html>' } },
    ]);
    const a = await postJson(url, hello);
    assert.equal(a.status, 418);
    assert.deepEqual(a.json, { custom: true });
    const b = await call(url, { body: hello });
    assert.equal(b.status, 502);
    assert.match(String(b.headers['content-type']), /^text\/plain/);
    assert.equal(b.body, '<html>502 Bad Gateway</html>');
  });

  it('sends an error inside the 200 stream after N chunks (streamErrorAfter)', async () => {
    sim.addFaults([{ times: 1, fault: { streamErrorAfter: 2 } }, { times: 1, fault: { streamErrorAfter: 1, error: 'rate_limit' } }]);
    for (const expected of ['server_error', 'requests']) {
      const res = await call(url, { body: { ...hello, stream: true } });
      assert.equal(res.status, 200);
      assert.ok(res.complete);
      const frames = parseSse(res.body);
      const last = JSON.parse(frames.at(-1)!.data);
      assert.equal(last.error.type, expected);
      assert.ok(!frames.some((f) => f.data === '[DONE]'));
    }
  });
});

describe('OpenAI format: a malformed event inside the 200 stream (streamMalformedAfter)', () => {
  it('sends N content chunks, one event without choices (or malformedData), then the rest of the stream', async () => {
    sim.addFaults([{ times: 1, fault: { streamMalformedAfter: 2, chunks: 4 } }, { times: 1, fault: { streamMalformedAfter: 1, chunks: 4, malformedData: 'not json' } }]);
    for (const [at, malformed] of [[3, undefined], [2, 'not json']] as const) {
      const res = await call(url, { body: { ...hello, stream: true } });
      assert.equal(res.status, 200);
      const frames = parseSse(res.body);
      // The role chunk, the content chunks before it, the malformed one, the rest, the finish chunk, [DONE].
      assert.equal(frames.length, 1 + 4 + 1 + 1 + 1);
      if (malformed === undefined) {
        const event = JSON.parse(frames[at]!.data);
        assert.equal(event.choices, undefined);
      } else {
        assert.equal(frames[at]!.data, malformed);
      }
      assert.equal(frames.at(-1)!.data, '[DONE]');
    }
  });
});

describe('OpenAI format: bad input', () => {
  const cases: Array<[string, unknown, RegExp, string | null]> = [
    ['invalid JSON', '{"model": "gpt-4o", ', /could not parse the JSON body/, null],
    ['a non-object body', '[1,2]', /expected an object/, 'invalid_type'],
    ['a missing model', { messages: [{ role: 'user', content: 'x' }] }, /you must provide a model parameter/, null],
    ['missing messages', { model: 'gpt-4o' }, /Missing required parameter: 'messages'/, 'missing_required_parameter'],
    ['non-array messages', { model: 'gpt-4o', messages: 'hi' }, /Invalid type for 'messages'/, 'invalid_type'],
    ['empty messages', { model: 'gpt-4o', messages: [] }, /empty array/, 'empty_array'],
    ['a non-object message', { model: 'gpt-4o', messages: [null] }, /messages\[0\]/, 'invalid_type'],
    ['a bad role', { model: 'gpt-4o', messages: [{ role: 'robot', content: 'x' }] }, /Invalid value: 'robot'/, 'invalid_value'],
    ['a bad stream flag', { ...hello, stream: 'yes' }, /stream/, 'invalid_type'],
  ];
  for (const [name, body, message, code] of cases) {
    it(`answers 400 invalid_request_error for ${name}`, async () => {
      const res = await postJson(url, body);
      assert.equal(res.status, 400);
      assert.equal(res.json.error.type, 'invalid_request_error');
      assert.equal(res.json.error.code, code);
      assert.match(res.json.error.message, message);
    });
  }

  it('answers 404 in the OpenAI shape under /openai and for the wrong method', async () => {
    const res = await call(`${sim.url}/openai/v1/models`);
    assert.equal(res.status, 404);
    assert.equal(JSON.parse(res.body).error.message, 'Invalid URL (GET /openai/v1/models)');
    const get = await call(url);
    assert.equal(get.status, 404);
  });

  it('still serves after bad input', async () => {
    assert.equal((await postJson(url, '{')).status, 400);
    assert.equal((await postJson(url, hello)).status, 200);
    assert.equal(sim.stats().requests, 2);
  });
});
