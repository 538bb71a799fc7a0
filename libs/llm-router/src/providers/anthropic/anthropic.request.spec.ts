import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatCompletionRequest } from '../../chat/chat-completion.types.js';
import type { AdapterTarget, ProviderAdapter } from '../provider-adapter.interface.js';
import { AnthropicAdapter } from './anthropic.adapter.js';

const target: AdapterTarget = {
  model: 'smart-chat',
  upstreamModel: 'claude-sonnet-4-5-20250929',
  basePath: '/v1',
  apiKey: 'sk-ant-test',
  headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' },
};

const adapter: ProviderAdapter = new AnthropicAdapter();

function translate(request: ChatCompletionRequest, stream = false): Record<string, any> {
  return JSON.parse(adapter.buildRequest(request, target, stream).body);
}

describe('AnthropicAdapter.buildRequest', () => {
  it('is the anthropic kind and needs no constructor arguments', () => {
    assert.equal(adapter.kind, 'anthropic');
  });

  it('posts to <basePath>/messages with x-api-key, anthropic-version and target headers', () => {
    const built = adapter.buildRequest({ messages: [{ role: 'user', content: 'Hi' }] }, target, false);
    assert.equal(built.path, '/v1/messages');
    assert.deepEqual(built.headers, {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-api-key': 'sk-ant-test',
      'anthropic-beta': 'prompt-caching-2024-07-31',
    });
    const noKey = adapter.buildRequest({ messages: [{ role: 'user', content: 'Hi' }] }, { ...target, apiKey: undefined }, false);
    assert.equal('x-api-key' in noKey.headers, false);
  });

  it('translates a minimal request: upstream model, default max_tokens, string content', () => {
    assert.deepEqual(translate({ model: 'smart-chat', messages: [{ role: 'user', content: 'Hello, Claude' }] }), {
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 4096,
      messages: [{ role: 'user', content: 'Hello, Claude' }],
    });
  });

  it('moves system and developer messages to a joined top-level system string', () => {
    const body = translate({
      messages: [
        { role: 'system', content: 'You are a pirate.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in one line.' }] },
        { role: 'user', content: 'Hi' },
      ],
    });
    assert.equal(body.system, 'You are a pirate.\n\nAnswer in one line.');
    assert.deepEqual(body.messages, [{ role: 'user', content: 'Hi' }]);
  });

  it('keeps a multi-turn conversation and merges consecutive same-role turns', () => {
    const body = translate({
      messages: [
        { role: 'user', content: 'Hello there.' },
        { role: 'assistant', content: 'Hi, I am Claude. How can I help you?' },
        { role: 'user', content: 'Can you explain LLMs in plain English?' },
        { role: 'user', content: [{ type: 'text', text: 'Keep it short.' }] },
      ],
    });
    assert.deepEqual(body.messages, [
      { role: 'user', content: 'Hello there.' },
      { role: 'assistant', content: 'Hi, I am Claude. How can I help you?' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Can you explain LLMs in plain English?' },
          { type: 'text', text: 'Keep it short.' },
        ],
      },
    ]);
  });

  it('translates images: data URLs to base64 sources, http(s) URLs to url sources', () => {
    const body = translate({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these.' },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ==' } },
            { type: 'image_url', image_url: { url: 'https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg', detail: 'high' } },
            { type: 'image_url', image_url: { url: 'data:image/svg+xml,%3Csvg%2F%3E' } },
          ],
        },
      ],
    });
    assert.deepEqual(body.messages[0].content, [
      { type: 'text', text: 'Compare these.' },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRgABAQ==' } },
      { type: 'image', source: { type: 'url', url: 'https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/svg+xml', data: Buffer.from('<svg/>').toString('base64') } },
    ]);
  });

  it('translates tools and every tool_choice form', () => {
    const tools: ChatCompletionRequest['tools'] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Get the current weather in a given location',
          parameters: { type: 'object', properties: { location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' } }, required: ['location'] },
        },
      },
      { type: 'function', function: { name: 'get_time' } },
    ];
    const messages: ChatCompletionRequest['messages'] = [{ role: 'user', content: 'Weather?' }];
    const body = translate({ messages, tools, tool_choice: 'auto' });
    assert.deepEqual(body.tools, [
      {
        name: 'get_weather',
        description: 'Get the current weather in a given location',
        input_schema: { type: 'object', properties: { location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' } }, required: ['location'] },
      },
      { name: 'get_time', input_schema: { type: 'object' } },
    ]);
    assert.deepEqual(body.tool_choice, { type: 'auto' });
    assert.deepEqual(translate({ messages, tools, tool_choice: 'required' }).tool_choice, { type: 'any' });
    assert.deepEqual(translate({ messages, tools, tool_choice: 'none' }).tool_choice, { type: 'none' });
    assert.deepEqual(translate({ messages, tools, tool_choice: { type: 'function', function: { name: 'get_time' } } }).tool_choice, { type: 'tool', name: 'get_time' });
    assert.equal('tool_choice' in translate({ messages, tools }), false);
    assert.equal('tools' in translate({ messages, tool_choice: 'auto' }), false);
  });

  it('allowed_tools: only the allowed function tools are sent, the mode becomes auto or any; custom tools are never sent', () => {
    const tools: ChatCompletionRequest['tools'] = [
      { type: 'function', function: { name: 'lookup' } },
      { type: 'function', function: { name: 'search' } },
      { type: 'custom', custom: { name: 'apply_patch' } },
    ];
    const messages: ChatCompletionRequest['messages'] = [{ role: 'user', content: 'find it' }];
    const allowed = (mode: 'auto' | 'required') =>
      translate({ messages, tools, tool_choice: { type: 'allowed_tools', allowed_tools: { mode, tools: [{ type: 'function', function: { name: 'search' } }] } } });
    assert.deepEqual(allowed('required').tools, [{ name: 'search', input_schema: { type: 'object' } }]);
    assert.deepEqual(allowed('required').tool_choice, { type: 'any' });
    assert.deepEqual(allowed('auto').tool_choice, { type: 'auto' });
    assert.deepEqual(translate({ messages, tools }).tools?.map((t: { name: string }) => t.name), ['lookup', 'search']);
    // Nothing allowed that Anthropic can take: no tools and no choice, rather than an empty list Anthropic refuses.
    const none = translate({ messages, tools, tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'custom', custom: { name: 'apply_patch' } }] } } });
    assert.equal('tools' in none, false);
    assert.equal('tool_choice' in none, false);
  });

  it('a custom tool call in the conversation becomes a tool_use block with its input as text', () => {
    const body = translate({
      messages: [
        { role: 'user', content: 'fix' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'custom', custom: { name: 'apply_patch', input: '*** Begin Patch' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'done' },
      ],
    });
    assert.deepEqual(body.messages[1], { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'apply_patch', input: { input: '*** Begin Patch' } }] });
  });

  it('translates assistant tool calls to tool_use blocks and tool messages to merged tool_result blocks', () => {
    const body = translate({
      messages: [
        { role: 'user', content: 'Weather in Paris and London?' },
        {
          role: 'assistant',
          content: 'Let me check both.',
          tool_calls: [
            { id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
            { id: 'toolu_01B', type: 'function', function: { name: 'get_weather', arguments: '{"location":"London"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_01A', content: '18°C, sunny' },
        { role: 'tool', tool_call_id: 'toolu_01B', content: [{ type: 'text', text: '12°C, rain' }] },
        { role: 'user', content: 'Which is warmer?' },
      ],
    });
    assert.deepEqual(body.messages, [
      { role: 'user', content: 'Weather in Paris and London?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check both.' },
          { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { location: 'Paris' } },
          { type: 'tool_use', id: 'toolu_01B', name: 'get_weather', input: { location: 'London' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_01A', content: '18°C, sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_01B', content: [{ type: 'text', text: '12°C, rain' }] },
          { type: 'text', text: 'Which is warmer?' },
        ],
      },
    ]);
  });

  it('tolerates invalid or empty tool arguments and null assistant content', () => {
    const body = translate({
      messages: [
        { role: 'user', content: 'Go' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'a', arguments: '{"location": "Par' } },
            { id: 'toolu_2', type: 'function', function: { name: 'b', arguments: '' } },
            { id: 'toolu_3', type: 'function', function: { name: 'c', arguments: '[1,2]' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '' },
      ],
    });
    assert.deepEqual(body.messages[1].content, [
      { type: 'tool_use', id: 'toolu_1', name: 'a', input: { raw_arguments: '{"location": "Par' } },
      { type: 'tool_use', id: 'toolu_2', name: 'b', input: {} },
      { type: 'tool_use', id: 'toolu_3', name: 'c', input: { raw_arguments: '[1,2]' } },
    ]);
    assert.deepEqual(body.messages[2], { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }] });
  });

  it('maps temperature (clamped to 0..1), top_p, max tokens, stop and user', () => {
    const messages: ChatCompletionRequest['messages'] = [{ role: 'user', content: 'Hi' }];
    const body = translate({ messages, temperature: 0.7, top_p: 0.9, max_tokens: 1000, stop: '###', user: 'user-42', seed: 7 });
    assert.equal(body.temperature, 0.7);
    assert.equal(body.top_p, 0.9);
    assert.equal(body.max_tokens, 1000);
    assert.deepEqual(body.stop_sequences, ['###']);
    assert.deepEqual(body.metadata, { user_id: 'user-42' });
    assert.equal('seed' in body, false);
    assert.equal(translate({ messages, temperature: 1.6 }).temperature, 1);
    assert.equal(translate({ messages, max_tokens: 1000, max_completion_tokens: 2000 }).max_tokens, 2000);
    assert.deepEqual(translate({ messages, stop: ['\n\nHuman:', 'END'] }).stop_sequences, ['\n\nHuman:', 'END']);
    assert.equal('stop_sequences' in translate({ messages, stop: [] }), false);
  });

  it('asks for JSON through the system prompt for json_object and json_schema', () => {
    const messages: ChatCompletionRequest['messages'] = [
      { role: 'system', content: 'Extract the fields.' },
      { role: 'user', content: 'Ada Lovelace, 1815' },
    ];
    const plain = translate({ messages, response_format: { type: 'json_object' } });
    assert.match(plain.system, /^Extract the fields\.\n\nRespond only with a single valid JSON object/);
    const schema = { type: 'object', properties: { name: { type: 'string' }, born: { type: 'integer' } }, required: ['name', 'born'] };
    const strict = translate({ messages: messages.slice(1), response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } } });
    assert.match(strict.system, /^Respond only with valid JSON that conforms to the JSON schema below/);
    assert.ok(strict.system.endsWith(JSON.stringify(schema)));
    assert.equal('system' in translate({ messages: messages.slice(1), response_format: { type: 'text' } }), false);
  });

  it('sets stream: true only when streaming', () => {
    const request: ChatCompletionRequest = { messages: [{ role: 'user', content: 'Hi' }], stream: true, stream_options: { include_usage: true } };
    assert.equal(translate(request, true).stream, true);
    const body = translate(request, false);
    assert.equal('stream' in body, false);
    assert.equal('stream_options' in body, false);
  });

  it('does not mutate the caller request', () => {
    const request: ChatCompletionRequest = {
      messages: [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
        { role: 'tool', tool_call_id: 'x', content: 'c' },
      ],
    };
    const copy = structuredClone(request);
    adapter.buildRequest(request, target, true);
    assert.deepEqual(request, copy);
  });
});

describe('AnthropicAdapter.buildRequest: OpenAI-only parameters', () => {
  const tools: ChatCompletionRequest['tools'] = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }];
  const base: ChatCompletionRequest = { messages: [{ role: 'user', content: 'Hi' }], tools };

  it('parallel_tool_calls: false becomes disable_parallel_tool_use on the tool choice', () => {
    assert.deepEqual(translate({ ...base, parallel_tool_calls: false }).tool_choice, { type: 'auto', disable_parallel_tool_use: true });
    assert.deepEqual(translate({ ...base, tool_choice: 'required', parallel_tool_calls: false }).tool_choice, { type: 'any', disable_parallel_tool_use: true });
    assert.deepEqual(translate({ ...base, tool_choice: 'none', parallel_tool_calls: false }).tool_choice, { type: 'none' });
    assert.equal(translate({ ...base, parallel_tool_calls: true }).tool_choice, undefined);
  });

  it('leaves out what the Messages API has no equivalent for', () => {
    const body = translate({
      messages: [{ role: 'user', content: 'Hi' }],
      presence_penalty: 0.5,
      frequency_penalty: 0.5,
      logit_bias: { '42': 5 },
      logprobs: true,
      top_logprobs: 3,
      seed: 7,
      service_tier: 'flex',
      store: true,
      reasoning_effort: 'low',
      metadata: { run: 'nightly' },
    });
    assert.deepEqual(Object.keys(body).sort(), ['max_tokens', 'messages', 'model']);
  });

  it('takes null optional fields as absent, as OpenAI does (a library caller may send them)', () => {
    const body = translate({
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello', tool_calls: null },
      ],
      temperature: null,
      top_p: null,
      stop: null,
      tools: null,
      tool_choice: null,
      user: null,
    } as unknown as ChatCompletionRequest);
    assert.deepEqual(body, {
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 4096,
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ],
    });
  });
});
