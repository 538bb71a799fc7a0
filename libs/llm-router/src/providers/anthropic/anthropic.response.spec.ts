import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import type { AdapterTarget } from '../provider-adapter.interface.js';
import { AnthropicAdapter } from './anthropic.adapter.js';

const target: AdapterTarget = { model: 'smart-chat', upstreamModel: 'claude-sonnet-4-5', basePath: '/v1', headers: {} };
const adapter = new AnthropicAdapter();

// From the Messages API reference.
const TEXT_MESSAGE = `{
  "content": [{ "text": "Hi! My name is Claude.", "type": "text" }],
  "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
  "model": "claude-sonnet-4-5-20250929",
  "role": "assistant",
  "stop_reason": "end_turn",
  "stop_sequence": null,
  "type": "message",
  "usage": { "input_tokens": 2095, "output_tokens": 503 }
}`;

// From the tool use guide.
const TOOL_MESSAGE = `{
  "id": "msg_01Aq9w938a90dw8q",
  "type": "message",
  "model": "claude-sonnet-4-5-20250929",
  "stop_reason": "tool_use",
  "role": "assistant",
  "content": [
    { "type": "text", "text": "I'll check the current weather in San Francisco for you." },
    { "type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": { "location": "San Francisco, CA", "unit": "celsius" } }
  ],
  "usage": { "input_tokens": 384, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 96 }
}`;

function message(overrides: Record<string, unknown>): string {
  return JSON.stringify({ ...JSON.parse(TEXT_MESSAGE), ...overrides });
}

describe('AnthropicAdapter.parseCompletion', () => {
  it('translates a text message to a chat completion', () => {
    const before = Math.floor(Date.now() / 1000);
    const completion = adapter.parseCompletion(TEXT_MESSAGE, target);
    assert.ok(completion.created >= before && completion.created <= Math.floor(Date.now() / 1000));
    assert.deepEqual(completion, {
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      object: 'chat.completion',
      created: completion.created,
      model: 'smart-chat',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi! My name is Claude.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2095, completion_tokens: 503, total_tokens: 2598 },
    });
  });

  it('translates tool_use blocks to tool_calls', () => {
    const completion = adapter.parseCompletion(TOOL_MESSAGE, target);
    const choice = completion.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, "I'll check the current weather in San Francisco for you.");
    assert.deepEqual(choice.message.tool_calls, [
      { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' } },
    ]);
    assert.deepEqual(completion.usage, { prompt_tokens: 384, completion_tokens: 96, total_tokens: 480 });
  });

  it('gives null content when there are only tool_use blocks, and concatenates several text blocks', () => {
    const onlyTool = adapter.parseCompletion(message({ content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }], stop_reason: 'tool_use' }), target);
    assert.equal(onlyTool.choices[0].message.content, null);
    assert.deepEqual(onlyTool.choices[0].message.tool_calls?.[0], { id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{}' } });
    const texts = adapter.parseCompletion(
      message({ content: [{ type: 'thinking', thinking: 'hmm', signature: 'sig' }, { type: 'text', text: 'Hello' }, { type: 'text', text: ', world' }] }),
      target,
    );
    assert.equal(texts.choices[0].message.content, 'Hello, world');
    assert.equal(texts.choices[0].message.tool_calls, undefined);
    assert.equal(adapter.parseCompletion(message({ content: [] }), target).choices[0].message.content, null);
  });

  it('maps every stop_reason', () => {
    const cases: Array<[string | null, string | null]> = [
      ['end_turn', 'stop'],
      ['stop_sequence', 'stop'],
      ['max_tokens', 'length'],
      ['tool_use', 'tool_calls'],
      ['refusal', 'content_filter'],
      ['pause_turn', 'stop'],
      ['model_context_window_exceeded', 'length'],
      [null, null],
    ];
    for (const [stop, finish] of cases) {
      assert.equal(adapter.parseCompletion(message({ stop_reason: stop }), target).choices[0].finish_reason, finish, String(stop));
    }
  });

  it('counts cache writes and reads as prompt tokens', () => {
    const completion = adapter.parseCompletion(
      message({ usage: { input_tokens: 21, cache_creation_input_tokens: 188086, cache_read_input_tokens: 0, output_tokens: 393 } }),
      target,
    );
    assert.deepEqual(completion.usage, { prompt_tokens: 188107, completion_tokens: 393, total_tokens: 188500 });
    const read = adapter.parseCompletion(message({ usage: { input_tokens: 21, cache_creation_input_tokens: null, cache_read_input_tokens: 188086, output_tokens: 393 } }), target);
    assert.equal(read.usage?.prompt_tokens, 188107);
  });

  it('tolerates a missing usage', () => {
    const body = JSON.parse(TEXT_MESSAGE);
    delete body.usage;
    assert.equal(adapter.parseCompletion(JSON.stringify(body), target).usage, undefined);
  });

  it('throws the categorized failure when a 200 body is an error', () => {
    assert.throws(
      () => adapter.parseCompletion('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', target),
      (e: unknown) => e instanceof UpstreamFailure && e.category === 'transient' && e.code === 'overloaded_error' && e.message === 'Overloaded',
    );
  });

  it('throws a transient failure, not a SyntaxError, for a non-JSON or content-less 200', () => {
    for (const body of ['<html></html>', '', '{"id":"msg_1","type":"message"}']) {
      assert.throws(() => adapter.parseCompletion(body, target), (e: unknown) => e instanceof UpstreamFailure && e.category === 'transient' && e.code === 'invalid_response');
    }
  });
});
