import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamFailure } from '../../errors/upstream-failure.js';
import type { AdapterTarget } from '../provider-adapter.interface.js';
import { OpenAiAdapter } from './openai.adapter.js';

const target: AdapterTarget = { model: 'smart-chat', upstreamModel: 'gpt-4.1-2025-04-14', basePath: '/v1', headers: {} };
const adapter = new OpenAiAdapter();

// From the OpenAI chat completion object reference.
const COMPLETION = `{
  "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  "object": "chat.completion",
  "created": 1741569952,
  "model": "gpt-4.1-2025-04-14",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "Hello! How can I assist you today?",
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": {
    "prompt_tokens": 19,
    "completion_tokens": 10,
    "total_tokens": 29,
    "prompt_tokens_details": { "cached_tokens": 0, "audio_tokens": 0 },
    "completion_tokens_details": { "reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0 }
  },
  "service_tier": "default"
}`;

const TOOL_CALL_COMPLETION =
  '{"id":"chatcmpl-abc123","object":"chat.completion","created":1699896916,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc123","type":"function","function":{"name":"get_current_weather","arguments":"{\\n\\"location\\": \\"Boston, MA\\"\\n}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99}}';

describe('OpenAI completion text reuse', () => {
  it("a compact body (as the API sends it) is reused with the model rewritten; it parses to the completion", () => {
    const compact = JSON.stringify(JSON.parse(COMPLETION));
    const completion = adapter.parseCompletion(compact, target);
    const json = adapter.serializedCompletion(completion);
    assert.ok(json !== undefined);
    assert.deepEqual(JSON.parse(json), completion);
    assert.ok(json.includes('"model":"smart-chat"') && !json.includes('gpt-4.1'));
  });

  it('a body spelled otherwise (pretty-printed) is re-serialized by the caller: no text', () => {
    const completion = adapter.parseCompletion(COMPLETION, target);
    assert.equal(adapter.serializedCompletion(completion), undefined);
    assert.equal(completion.model, 'smart-chat');
  });
});

describe('OpenAiAdapter.parseCompletion', () => {
  it('reports the catalog model name and keeps everything else', () => {
    const completion = adapter.parseCompletion(COMPLETION, target);
    assert.equal(completion.model, 'smart-chat');
    assert.equal(completion.id, 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT');
    assert.equal(completion.choices[0].message.content, 'Hello! How can I assist you today?');
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assert.deepEqual(
      { prompt: completion.usage?.prompt_tokens, completion: completion.usage?.completion_tokens, total: completion.usage?.total_tokens },
      { prompt: 19, completion: 10, total: 29 },
    );
  });

  it('passes tool calls through', () => {
    const completion = adapter.parseCompletion(TOOL_CALL_COMPLETION, target);
    assert.equal(completion.choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(completion.choices[0].message.tool_calls, [
      { id: 'call_abc123', type: 'function', function: { name: 'get_current_weather', arguments: '{\n"location": "Boston, MA"\n}' } },
    ]);
  });

  it('tolerates missing or null usage', () => {
    const noUsage = JSON.parse(COMPLETION);
    delete noUsage.usage;
    assert.equal(adapter.parseCompletion(JSON.stringify(noUsage), target).usage, undefined);
    assert.equal(adapter.parseCompletion(JSON.stringify({ ...noUsage, usage: null }), target).usage, undefined);
  });

  it('throws the categorized failure when a 200 body is an error', () => {
    const body = '{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}';
    assert.throws(
      () => adapter.parseCompletion(body, target),
      (e: unknown) => e instanceof UpstreamFailure && e.category === 'transient' && e.code === 'server_error' && /Sorry about that/.test(e.message),
    );
  });

  it('categorizes a 200 Azure content-filter error from its embedded status', () => {
    const body =
      '{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI\'s content management policy. Please modify your prompt and retry.","type":null,"param":"prompt","code":"content_filter","status":400}}';
    assert.throws(
      () => adapter.parseCompletion(body, target),
      (e: unknown) => e instanceof UpstreamFailure && e.category === 'content_filtered' && e.code === 'content_filter',
    );
  });

  it('throws a transient failure, not a SyntaxError, for a non-JSON or choice-less 200', () => {
    for (const body of ['<html>oops</html>', '', '{"id":"x"}']) {
      assert.throws(
        () => adapter.parseCompletion(body, target),
        (e: unknown) => e instanceof UpstreamFailure && e.category === 'transient' && e.code === 'invalid_response',
      );
    }
  });
});
