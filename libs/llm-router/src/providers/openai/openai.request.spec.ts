import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatCompletionRequest } from '../../chat/chat-completion.types.js';
import type { AdapterTarget, ProviderAdapter } from '../provider-adapter.interface.js';
import { OpenAiAdapter } from './openai.adapter.js';

const target: AdapterTarget = {
  model: 'fast-chat',
  upstreamModel: 'gpt-4o-mini-2024-07-18',
  basePath: '/v1',
  apiKey: 'sk-test',
  headers: { 'openai-organization': 'org-123' },
};

const request: ChatCompletionRequest = {
  model: 'fast-chat',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: [{ type: 'text', text: 'What is in this image?' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } }] },
  ],
  tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
  tool_choice: 'auto',
  temperature: 0.2,
  max_completion_tokens: 256,
  stop: ['END'],
  response_format: { type: 'json_object' },
  user: 'user-42',
};

describe('OpenAiAdapter.buildRequest', () => {
  const adapter: ProviderAdapter = new OpenAiAdapter();

  it('is the openai kind and needs no constructor arguments', () => {
    assert.equal(adapter.kind, 'openai');
  });

  it('posts to <basePath>/chat/completions with bearer auth and the target headers', () => {
    const built = adapter.buildRequest(request, target, false);
    assert.equal(built.path, '/v1/chat/completions');
    assert.deepEqual(built.headers, {
      'content-type': 'application/json',
      authorization: 'Bearer sk-test',
      'openai-organization': 'org-123',
    });
  });

  it('omits authorization without an api key, and lets target headers override (Azure api-key)', () => {
    const built = adapter.buildRequest(request, { ...target, apiKey: undefined, basePath: '/openai/deployments/gpt4o', headers: { 'api-key': 'azure-key', 'content-type': 'application/json; charset=utf-8' } }, false);
    assert.equal(built.path, '/openai/deployments/gpt4o/chat/completions');
    assert.deepEqual(built.headers, { 'content-type': 'application/json; charset=utf-8', 'api-key': 'azure-key' });
  });

  it('replaces the model with the upstream id and passes everything else through unchanged', () => {
    const body = JSON.parse(adapter.buildRequest(request, target, false).body);
    assert.deepEqual(body, { ...request, model: 'gpt-4o-mini-2024-07-18' });
  });

  it('adds the model when the caller left it to routing', () => {
    const { model: _m, ...noModel } = request;
    const body = JSON.parse(adapter.buildRequest(noModel, target, false).body);
    assert.equal(body.model, 'gpt-4o-mini-2024-07-18');
  });

  it('streams with stream_options.include_usage always on', () => {
    const body = JSON.parse(adapter.buildRequest({ ...request, stream: false, stream_options: { include_usage: false } }, target, true).body);
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
  });

  it('drops stream and stream_options when not streaming', () => {
    const body = JSON.parse(adapter.buildRequest({ ...request, stream: true, stream_options: { include_usage: true } }, target, false).body);
    assert.equal('stream' in body, false);
    assert.equal('stream_options' in body, false);
  });

  it("makes a target's path and headers once and shares them, frozen, with every request to it", () => {
    const own: AdapterTarget = { ...target };
    const first = adapter.buildRequest(request, own, false);
    const second = adapter.buildRequest({ ...request, user: 'user-43' }, own, true);
    assert.equal(second.headers, first.headers);
    assert.ok(Object.isFrozen(first.headers), 'a shared object must refuse a change meant for one request');
    assert.notEqual(adapter.buildRequest(request, { ...target }, false).headers, first.headers);
  });

  it('does not mutate the caller request', () => {
    const copy = structuredClone(request);
    adapter.buildRequest(request, target, true);
    assert.deepEqual(request, copy);
  });

  it('keeps assistant tool calls and tool results as they are', () => {
    const multi: ChatCompletionRequest = {
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c":18}' },
      ],
    };
    const body = JSON.parse(adapter.buildRequest(multi, target, false).body);
    assert.deepEqual(body.messages, multi.messages);
  });
});

describe('OpenAiAdapter.buildRequest: parameters passed through', () => {
  it('sends the sampling, logprob, tool and service parameters as given, and ones the router does not know', () => {
    const withParams = {
      messages: [{ role: 'user', content: 'Hi' }],
      presence_penalty: -0.5,
      frequency_penalty: 1,
      logit_bias: { '50256': -100 },
      logprobs: true,
      top_logprobs: 2,
      parallel_tool_calls: false,
      reasoning_effort: 'minimal',
      service_tier: 'flex',
      metadata: { run: 'nightly' },
      store: false,
      seed: 11,
      top_k: 40, // a vendor parameter (vLLM, Together): not in ChatCompletionRequest
    } as ChatCompletionRequest;
    const body = JSON.parse(new OpenAiAdapter().buildRequest(withParams, target, false).body);
    const { model, ...rest } = body;
    assert.equal(model, 'gpt-4o-mini-2024-07-18');
    const { messages: _m, ...expected } = withParams as unknown as Record<string, unknown>;
    const { messages: _n, ...sent } = rest;
    assert.deepEqual(sent, expected);
  });
});
