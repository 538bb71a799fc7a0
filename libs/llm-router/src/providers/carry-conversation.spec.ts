import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatCompletionRequest, ChatMessage } from '../chat/chat-completion.types.js';
import { AnthropicAdapter } from './anthropic/anthropic.adapter.js';
import { carryConversation } from './carry-conversation.js';
import { OpenAiAdapter } from './openai/openai.adapter.js';
import type { AdapterTarget } from './provider-adapter.interface.js';

const target = (model: string): AdapterTarget => ({ model, upstreamModel: model, basePath: '/v1', headers: {} });
const anthropic = new AnthropicAdapter();
const openai = new OpenAiAdapter();

/** What a provider of `kind` is sent for `request`, as the executor prepares it: carried, then translated. */
function sent(request: ChatCompletionRequest, kind: 'openai' | 'anthropic') {
  const carried = carryConversation(request, kind);
  const adapter = kind === 'openai' ? openai : anthropic;
  return { body: JSON.parse(adapter.buildRequest(carried.request, target(`${kind}-model`), false).body) as Record<string, unknown>, notes: carried.notes };
}

const WEATHER_TOOL = { type: 'function' as const, function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };

describe('a conversation carried across a provider switch', () => {
  it('OpenAI → Anthropic: system prompt, multi-part content with an image, tool definitions, tool calls and results with their ids', () => {
    // A conversation as OpenAI's chat completions API holds it (the shapes its API returns and accepts).
    const conversation: ChatCompletionRequest = {
      messages: [
        { role: 'system', content: 'You are a weather assistant.' },
        { role: 'user', content: [{ type: 'text', text: 'What is in this picture, and the weather in Paris?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_9pwGQeLGUbC8YcMUU5prRh9P', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_9pwGQeLGUbC8YcMUU5prRh9P', content: '{"temp_c":18}' },
        { role: 'assistant', content: 'A cat; 18 °C in Paris.' },
        { role: 'user', content: 'And tomorrow?' },
      ],
      tools: [WEATHER_TOOL],
      tool_choice: 'auto',
    };
    const { body, notes } = sent(conversation, 'anthropic');
    assert.deepEqual(notes, []);
    assert.equal(body['system'], 'You are a weather assistant.');
    assert.deepEqual(body['tools'], [{ name: 'get_weather', description: 'Weather for a city', input_schema: WEATHER_TOOL.function.parameters }]);
    assert.deepEqual(body['messages'], [
      { role: 'user', content: [{ type: 'text', text: 'What is in this picture, and the weather in Paris?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_9pwGQeLGUbC8YcMUU5prRh9P', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_9pwGQeLGUbC8YcMUU5prRh9P', content: '{"temp_c":18}' }] },
      { role: 'assistant', content: 'A cat; 18 °C in Paris.' },
      { role: 'user', content: 'And tomorrow?' },
    ]);
  });

  it('Anthropic → OpenAI: a tool_use answered by Claude becomes the tool call the OpenAI target is sent, its id unchanged in call and result', () => {
    // A Messages API response as Anthropic sends it.
    const claude = JSON.stringify({
      id: 'msg_01Aq9w938a90dw8q',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { city: 'Paris' } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 320, output_tokens: 41 },
    });
    const answer = anthropic.parseCompletion(claude, target('anthropic-model')).choices[0]!.message;
    const conversation: ChatCompletionRequest = {
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        answer as ChatMessage,
        { role: 'tool', tool_call_id: 'toolu_01A09q90qw90lq917835lq9', content: '18 °C' },
      ],
      tools: [WEATHER_TOOL],
    };
    const { body, notes } = sent(conversation, 'openai');
    assert.deepEqual(notes, []);
    assert.deepEqual(body['messages'], [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_01A09q90qw90lq917835lq9', content: '18 °C' },
    ]);
    // And back to Anthropic: the same id on the tool_use and its tool_result.
    const back = sent(conversation, 'anthropic').body['messages'] as Array<{ content: Array<Record<string, unknown>> }>;
    assert.equal(back[1]!.content[1]!['id'], 'toolu_01A09q90qw90lq917835lq9');
    assert.equal(back[2]!.content[0]!['tool_use_id'], 'toolu_01A09q90qw90lq917835lq9');
  });

  it('tool-call ids Anthropic would refuse are rewritten alike in the call and its result, with a note', () => {
    // Some OpenAI-compatible servers (Kimi, a few vLLM parsers) give ids like `functions.get_weather:0`.
    const conversation: ChatCompletionRequest = {
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'functions.get_weather:0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'functions.get_weather:1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'functions.get_weather:1', content: '22 °C' },
        { role: 'tool', tool_call_id: 'functions.get_weather:0', content: '18 °C' },
      ],
    };
    const { body, notes } = sent(conversation, 'anthropic');
    const messages = body['messages'] as Array<{ content: Array<Record<string, string>> }>;
    const [use0, use1] = [messages[1]!.content[0]!['id']!, messages[1]!.content[1]!['id']!];
    assert.match(use0, /^[A-Za-z0-9_-]+$/);
    assert.notEqual(use0, use1);
    assert.equal(messages[2]!.content[0]!['tool_use_id'], use1);
    assert.equal(messages[2]!.content[1]!['tool_use_id'], use0);
    assert.deepEqual(notes, ["rewrote 2 tool-call ids Anthropic would refuse, in each call and its result alike"]);
    // The caller's conversation itself is untouched.
    assert.equal(conversation.messages[1]!.tool_calls![0]!.id, 'functions.get_weather:0');
    // An OpenAI target takes them as they are.
    assert.deepEqual(sent(conversation, 'openai').notes, []);
  });

  it('signed thinking blocks and reasoning text are dropped with a note, not sent to an upstream that would answer 400', () => {
    const assistant = {
      role: 'assistant',
      content: 'It is 18 °C.',
      thinking_blocks: [{ type: 'thinking', thinking: 'The user wants…', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' }],
      reasoning_content: 'The user wants…',
    } as unknown as ChatMessage;
    const conversation: ChatCompletionRequest = { messages: [{ role: 'user', content: 'Weather?' }, assistant, { role: 'user', content: 'Thanks' }] };
    const { body, notes } = sent(conversation, 'openai');
    const messages = body['messages'] as Array<Record<string, unknown>>;
    assert.deepEqual(messages[1], { role: 'assistant', content: 'It is 18 °C.' });
    assert.deepEqual(notes, ['dropped provider-specific state the openai target cannot take (thinking_blocks, reasoning_content) from one assistant message']);
    assert.equal(sent(conversation, 'anthropic').notes.length, 1);
  });

  it('a conversation with nothing to change is passed as it is (no copy)', () => {
    const request: ChatCompletionRequest = { messages: [{ role: 'user', content: 'hi' }] };
    assert.equal(carryConversation(request, 'anthropic').request, request);
  });
});
