import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LlmRouterError } from '../errors/llm-router.error.js';
import { requestShapeError } from './request-shape.js';

const user = { role: 'user', content: 'hi' };
const call = { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } };

describe('requestShapeError', () => {
  it('names the offending field of each malformed request, as an invalid_request the router never retries (400, invalid_value)', () => {
    const cases: Array<[request: unknown, param: string | null]> = [
      [null, null],
      [[user], null],
      [{ messages: 'hello' }, 'messages'],
      [{}, 'messages'],
      [{ messages: [] }, 'messages'],
      [{ messages: [user, null] }, 'messages[1]'],
      [{ messages: [{ content: 'hi' }] }, 'messages[0].role'],
      [{ messages: [{ role: 'robot', content: 'hi' }] }, 'messages[0].role'],
      [{ messages: [{ role: 'user', content: 42 }] }, 'messages[0].content'],
      [{ messages: [{ role: 'user', content: [null] }] }, 'messages[0].content[0]'],
      [{ messages: [{ role: 'user', content: [{ text: 'no type' }] }] }, 'messages[0].content[0]'],
      [{ messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text'],
      [{ messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: 'x' }] }] }, 'messages[0].content[1].image_url'],
      [{ messages: [user, { role: 'assistant', content: null, tool_calls: [call, null] }] }, 'messages[1].tool_calls[1]'],
      [{ messages: [user, { role: 'assistant', tool_calls: {} }] }, 'messages[1].tool_calls'],
      [{ messages: [user, { role: 'assistant', tool_calls: [{ ...call, id: 7 }] }] }, 'messages[1].tool_calls[0].id'],
      [{ messages: [user, { role: 'assistant', tool_calls: [{ id: 'a', type: 'function' }] }] }, 'messages[1].tool_calls[0].function'],
      [{ messages: [user, { role: 'assistant', tool_calls: [{ ...call, function: { arguments: '{}' } }] }] }, 'messages[1].tool_calls[0].function.name'],
      [{ messages: [user, { role: 'assistant', tool_calls: [{ ...call, function: { name: 'f', arguments: {} } }] }] }, 'messages[1].tool_calls[0].function.arguments'],
      [{ messages: [{ role: 'tool', tool_call_id: { id: 'a' }, content: 'x' }] }, 'messages[0].tool_call_id'],
      [{ model: 42, messages: [user] }, 'model'],
      [{ model: null, messages: [user] }, 'model'],
      [{ messages: [user], tools: 'lookup' }, 'tools'],
      [{ messages: [user], tools: [null] }, 'tools[0]'],
      [{ messages: [user], tools: [{ type: 'function' }] }, 'tools[0].function'],
      [{ messages: [user], tools: [{ type: 'function', function: { description: 'x' } }] }, 'tools[0].function.name'],
      [{ messages: [user], tool_choice: 'always' }, 'tool_choice'],
      [{ messages: [user], tool_choice: { type: 'function' } }, 'tool_choice'],
      [{ messages: [user], tools: [{ type: 'custom', custom: { description: 'x' } }] }, 'tools[0].custom.name'],
      [{ messages: [user], functions: [{ name: 'f', parameters: {} }] }, 'functions'],
      [{ messages: [user], function_call: 'auto' }, 'function_call'],
      [{ messages: [user, { role: 'function', name: 'f', content: '{}' }] }, 'messages[1].role'],
      [{ messages: [user], tools: [{ type: 'custom' }] }, 'tools[0].custom'],
      [{ messages: [user], tools: [{ type: 'web_search', function: { name: 'f' } }] }, 'tools[0].type'],
      [{ messages: [user, { role: 'assistant', tool_calls: [{ id: 'a', type: 'custom', custom: { name: 'f' } }] }] }, 'messages[1].tool_calls[0].custom.input'],
      [{ messages: [user, { role: 'assistant', tool_calls: [{ id: 'a', type: 'custom', function: { name: 'f', arguments: '{}' } }] }] }, 'messages[1].tool_calls[0].custom'],
      [{ messages: [user], tool_choice: { type: 'custom', custom: {} } }, 'tool_choice'],
      [{ messages: [user], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'sometimes', tools: [{ type: 'function', function: { name: 'f' } }] } } }, 'tool_choice.allowed_tools.mode'],
      [{ messages: [user], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } } }, 'tool_choice.allowed_tools.tools'],
      [{ messages: [user], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'custom' }] } } }, 'tool_choice.allowed_tools.tools[0].custom'],
      [{ messages: [user], tool_choice: { type: 'allowed_tools' } }, 'tool_choice.allowed_tools'],
      [{ messages: [user], max_tokens: -5 }, 'max_tokens'],
      [{ messages: [user], max_tokens: 0 }, 'max_tokens'],
      [{ messages: [user], max_tokens: 1.5 }, 'max_tokens'],
      [{ messages: [user], max_tokens: '100' }, 'max_tokens'],
      [{ messages: [user], max_completion_tokens: Infinity }, 'max_completion_tokens'],
      [{ messages: [user], temperature: '0.2' }, 'temperature'],
      [{ messages: [user], top_p: true }, 'top_p'],
      [{ messages: [user], stream: 'yes' }, 'stream'],
      [{ messages: [user], stop: 3 }, 'stop'],
      [{ messages: [user], stop: ['a', null] }, 'stop[1]'],
      [{ messages: [user], response_format: 'json' }, 'response_format'],
      [{ messages: [user], response_format: { type: 'json_schema' } }, 'response_format.json_schema'],
    ];
    for (const [request, param] of cases) {
      const error = requestShapeError(request);
      assert.ok(error instanceof LlmRouterError, `refused: ${JSON.stringify(request)}`);
      assert.deepEqual([error.category, error.code, error.httpStatus, error.param], ['invalid_request', 'invalid_value', 400, param], JSON.stringify(request));
      if (param !== null) assert.ok(error.message.includes(`'${param}'`), error.message);
    }
  });

  it('says what it expected and what it got', () => {
    assert.equal(
      requestShapeError({ messages: [user, { role: 'assistant', tool_calls: [null] }] })?.message,
      "Invalid value for 'messages[1].tool_calls[0]': expected a tool call object, got null.",
    );
    assert.equal(requestShapeError({ messages: 'hello' })?.message, `Invalid value for 'messages': expected an array of messages, got "hello".`);
  });

  it('passes what the router can route: nulls as absent, content parts and parameters it passes on without reading', () => {
    const fine: unknown[] = [
      { messages: [user] },
      { model: 'auto', messages: [{ role: 'system', content: 'be brief' }, { role: 'developer', content: [{ type: 'text', text: 'x' }] }, user] },
      {
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }, { type: 'input_audio', input_audio: {} }] },
          { role: 'assistant', content: null, tool_calls: [call], refusal: null },
          { role: 'tool', tool_call_id: 'call_1', content: '{"ok":true}' },
          { role: 'assistant', content: 'done', tool_calls: null },
        ],
        tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
        tool_choice: { type: 'function', function: { name: 'lookup' } },
        response_format: { type: 'json_schema', json_schema: { name: 's' } },
        stop: ['\n\n'],
        max_tokens: 64,
        temperature: 0.2,
        stream: true,
        top_k: 'a vendor parameter, passed on',
      },
      { messages: [user], tools: null, tool_choice: null, max_tokens: null, max_completion_tokens: null, temperature: null, top_p: null, stream: null, stop: null, response_format: null },
      { messages: [user], tool_choice: 'required', stop: 'END', response_format: { type: 'json_object' } },
      {
        messages: [user, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'custom', custom: { name: 'patch', input: '*** Begin Patch' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'ok' }],
        tools: [
          { type: 'custom', custom: { name: 'patch', format: { type: 'grammar', grammar: { syntax: 'lark', definition: 'start: /.+/' } } } },
          { type: 'function', function: { name: 'lookup' } },
        ],
        tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'custom', custom: { name: 'patch' } }] } },
      },
      { messages: [user], tools: [{ type: 'custom', custom: { name: 'patch' } }], tool_choice: { type: 'custom', custom: { name: 'patch' } } },
    ];
    for (const request of fine) assert.equal(requestShapeError(request), undefined, JSON.stringify(request));
  });
});
