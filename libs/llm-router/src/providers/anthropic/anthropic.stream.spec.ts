import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatCompletionChunk } from '../../chat/chat-completion.types.js';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import type { AdapterTarget, StreamDecoder } from '../provider-adapter.interface.js';
import { sseEvents } from '../../testing/sse-events.spec-helper.js';
import { AnthropicAdapter } from './anthropic.adapter.js';

const target: AdapterTarget = { model: 'smart-chat', upstreamModel: 'claude-sonnet-4-5', basePath: '/v1', headers: {} };
const adapter = new AnthropicAdapter();

function sse(events: Array<[string, string]>): string {
  return events.map(([event, data]) => `event: ${event}\ndata: ${data}\n\n`).join('');
}

// The tool-use stream from Anthropic's streaming guide, with a second tool_use block added.
const TOOL_STREAM = sse([
  ['message_start', '{"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}}'],
  ['content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'],
  ['ping', '{"type": "ping"}'],
  ['content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay"}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", let\'s check the weather for San Francisco, CA:"}}'],
  ['content_block_stop', '{"type":"content_block_stop","index":0}'],
  ['content_block_start', '{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"location\\":"}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \\"San"}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" Francisc"}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"o,"}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" CA\\""}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":", "}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\\"unit\\": \\"fah"}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"renheit\\"}"}}'],
  ['content_block_stop', '{"type":"content_block_stop","index":1}'],
  ['content_block_start', '{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02U2y2gK45rBnl3uOUsO8Vq7","name":"get_time","input":{}}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"tz\\": \\"America/Los_Angeles\\"}"}}'],
  ['content_block_stop', '{"type":"content_block_stop","index":2}'],
  ['message_delta', '{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}'],
  ['message_stop', '{"type":"message_stop"}'],
]);

function decodeAll(text: string): { chunks: ChatCompletionChunk[]; decoder: StreamDecoder } {
  const decoder = adapter.createStreamDecoder(target);
  const chunks = sseEvents(text).flatMap((e) => decoder.decode(e));
  return { chunks, decoder };
}

describe('Anthropic stream decoder', () => {
  const { chunks, decoder } = decodeAll(TOOL_STREAM);
  const deltas = chunks.filter((c) => c.choices.length > 0).map((c) => c.choices[0]);

  it('shares one id, created and the catalog model across every chunk', () => {
    assert.ok(chunks.length > 0);
    for (const chunk of chunks) {
      assert.equal(chunk.id, 'msg_014p7gG3wDgGV9EUtLvnow3U');
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.created, chunks[0].created);
      assert.equal(chunk.model, 'smart-chat');
    }
  });

  it('opens with the assistant role, then streams text as content', () => {
    assert.deepEqual(deltas[0], { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null });
    assert.deepEqual(deltas[1].delta, { content: 'Okay' });
    assert.deepEqual(deltas[2].delta, { content: ", let's check the weather for San Francisco, CA:" });
  });

  it('emits tool-call starts with index, id, type and name, then argument deltas', () => {
    const toolDeltas = deltas.flatMap((d) => d.delta.tool_calls ?? []);
    assert.deepEqual(toolDeltas[0], { index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } });
    const second = toolDeltas.find((t) => t.id === 'toolu_02U2y2gK45rBnl3uOUsO8Vq7');
    assert.deepEqual(second, { index: 1, id: 'toolu_02U2y2gK45rBnl3uOUsO8Vq7', type: 'function', function: { name: 'get_time', arguments: '' } });
    const args = (index: number) =>
      toolDeltas
        .filter((t) => t.index === index)
        .map((t) => t.function?.arguments ?? '')
        .join('');
    assert.deepEqual(JSON.parse(args(0)), { location: 'San Francisco, CA', unit: 'fahrenheit' });
    assert.deepEqual(JSON.parse(args(1)), { tz: 'America/Los_Angeles' });
    // The empty first partial_json produces no chunk.
    assert.ok(toolDeltas.every((t) => t.id !== undefined || (t.function?.arguments ?? '').length > 0));
  });

  it('maps message_delta to a finish_reason chunk', () => {
    const finishes = deltas.filter((d) => d.finish_reason !== null);
    assert.equal(finishes.length, 1);
    assert.deepEqual(finishes[0], { index: 0, delta: {}, finish_reason: 'tool_calls' });
  });

  it('ends with a usage chunk with no choices and is finished', () => {
    const last = chunks[chunks.length - 1];
    assert.deepEqual(last.choices, []);
    assert.deepEqual(last.usage, { prompt_tokens: 472, completion_tokens: 89, total_tokens: 561 });
    assert.equal(decoder.finished, true);
    assert.deepEqual(decoder.usage, { prompt_tokens: 472, completion_tokens: 89, total_tokens: 561 });
  });

  it('is not finished before message_stop but already knows prompt tokens', () => {
    const partial = adapter.createStreamDecoder(target);
    partial.decode({ event: 'message_start', data: '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_read_input_tokens":100,"output_tokens":1}}}' });
    assert.equal(partial.finished, false);
    assert.deepEqual(partial.usage, { prompt_tokens: 125, completion_tokens: 1, total_tokens: 126 });
    partial.decode({ event: 'message_delta', data: '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}' });
    assert.equal(partial.finished, false);
    assert.deepEqual(partial.usage, { prompt_tokens: 125, completion_tokens: 15, total_tokens: 140 });
  });

  it('maps stop reasons: end_turn, max_tokens, refusal', () => {
    for (const [reason, finish] of [
      ['end_turn', 'stop'],
      ['stop_sequence', 'stop'],
      ['max_tokens', 'length'],
      ['refusal', 'content_filter'],
    ] as const) {
      const d = adapter.createStreamDecoder(target);
      const out = d.decode({ event: 'message_delta', data: `{"type":"message_delta","delta":{"stop_reason":"${reason}","stop_sequence":null},"usage":{"output_tokens":3}}` });
      assert.equal(out[0].choices[0].finish_reason, finish);
    }
  });

  it('throws a categorized failure for an error event inside a 200 stream', () => {
    const d = adapter.createStreamDecoder(target);
    d.decode({ event: 'message_start', data: '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}' });
    assert.throws(
      () => d.decode({ event: 'error', data: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' }),
      (e: unknown) => e instanceof UpstreamFailure && e.category === 'transient' && e.code === 'overloaded_error' && e.message === 'Overloaded' && e.status === 200,
    );
  });

  it('categorizes other in-stream error types', () => {
    const cases: Array<[string, string]> = [
      ['{"type":"error","error":{"type":"api_error","message":"Internal server error"}}', 'transient'],
      ['{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}', 'rate_limited'],
      ['{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208310 tokens > 200000 maximum"}}', 'context_length'],
      ['{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}}', 'upstream_quota'],
      ['{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}', 'provider_misconfigured'],
      ['{"type":"error","error":{"type":"invalid_request_error","message":"Invalid request"}}', 'invalid_request'],
      ['{"type":"error","error":{"type":"brand_new_error","message":"?"}}', 'transient'],
    ];
    for (const [data, category] of cases) {
      const d = adapter.createStreamDecoder(target);
      assert.throws(() => d.decode({ event: 'error', data }), (e: unknown) => e instanceof UpstreamFailure && e.category === category, data);
    }
  });

  it('ignores ping, content_block_stop, thinking deltas and unknown events', () => {
    const d = adapter.createStreamDecoder(target);
    assert.deepEqual(d.decode({ event: 'ping', data: '{"type": "ping"}' }), []);
    assert.deepEqual(d.decode({ event: 'content_block_stop', data: '{"type":"content_block_stop","index":0}' }), []);
    assert.deepEqual(d.decode({ event: 'content_block_delta', data: '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think"}}' }), []);
    assert.deepEqual(d.decode({ event: 'content_block_delta', data: '{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}' }), []);
    assert.deepEqual(d.decode({ event: 'some_future_event', data: '{"type":"some_future_event"}' }), []);
    assert.throws(() => d.decode({ event: 'message_start', data: '{"type":"mess' }), (e: unknown) => e instanceof UpstreamFailure && e.category === 'transient');
  });

  it('an event it cannot read (no type, a delta missing or without its text, not JSON) is the upstream breaking its protocol: transient, invalid_stream_event, saying what', () => {
    const cases: Array<[event: string | undefined, data: string, what: RegExp]> = [
      [undefined, '{"message":"upstream busy"}', /an event without a type/],
      ['content_block_delta', '{"type":"content_block_delta","index":0}', /a content_block_delta without a delta/],
      ['content_block_delta', '{"type":"content_block_delta","index":0,"delta":"hi"}', /a content_block_delta without a delta/],
      ['content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}', /a text_delta without text/],
      ['content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":', /an event that is not JSON/],
    ];
    for (const [event, data, what] of cases) {
      const d = adapter.createStreamDecoder(target);
      assert.throws(
        () => d.decode(event === undefined ? { data } : { event, data }),
        (e: unknown) => e instanceof UpstreamFailure && e.category === 'transient' && e.code === 'invalid_stream_event' && what.test(e.message),
        data,
      );
    }
  });
});
