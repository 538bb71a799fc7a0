import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpException } from '@nestjs/common';
import { parseResponsesRequest } from './parse-responses-request.js';
import type { ConversationItem } from './response.types.js';
import { toChatRequest } from './to-chat-request.js';

const history: ConversationItem[] = [
  { type: 'message', role: 'user', content: 'weather in Paris?' },
  { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Let me look.', annotations: [] }] },
  { type: 'function_call', id: 'fc_1', call_id: 'call_a', name: 'weather', arguments: '{"city":"Paris"}', status: 'completed' },
  { type: 'function_call', id: 'fc_2', call_id: 'call_b', name: 'weather', arguments: '{"city":"Lyon"}', status: 'completed' },
];

test('instructions, then the earlier conversation, then the input: calls join their assistant turn, outputs are tool messages with the same ids', () => {
  const request = parseResponsesRequest({
    model: 'premium-a',
    instructions: 'You are terse.',
    input: [
      { type: 'function_call_output', call_id: 'call_a', output: '18C' },
      { type: 'function_call_output', call_id: 'call_b', output: [{ type: 'input_text', text: '20' }, { type: 'input_text', text: 'C' }] },
      { role: 'user', content: [{ type: 'input_text', text: 'and this?' }, { type: 'input_image', image_url: 'https://img/x.png', detail: 'low' }] },
    ],
    tools: [{ type: 'function', name: 'weather', description: 'Weather of a city', parameters: { type: 'object' }, strict: null }],
    tool_choice: { type: 'function', name: 'weather' },
    max_output_tokens: 64,
    temperature: 0.5,
    parallel_tool_calls: false,
    text: { format: { type: 'json_schema', name: 'w', schema: { type: 'object' }, strict: true } },
  });
  assert.deepEqual(toChatRequest(request, history), {
    model: 'premium-a',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'weather in Paris?' },
      {
        role: 'assistant',
        content: 'Let me look.',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Lyon"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '18C' },
      { role: 'tool', tool_call_id: 'call_b', content: '20C' },
      { role: 'user', content: [{ type: 'text', text: 'and this?' }, { type: 'image_url', image_url: { url: 'https://img/x.png', detail: 'low' } }] },
    ],
    tools: [{ type: 'function', function: { name: 'weather', description: 'Weather of a city', parameters: { type: 'object' } } }],
    tool_choice: { type: 'function', function: { name: 'weather' } },
    max_completion_tokens: 64,
    temperature: 0.5,
    parallel_tool_calls: false,
    response_format: { type: 'json_schema', json_schema: { name: 'w', schema: { type: 'object' }, strict: true } },
  });
});

test('a function call with no assistant turn before it is an assistant message of its own', () => {
  const request = parseResponsesRequest({ input: [{ type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' }, { type: 'function_call_output', call_id: 'c1', output: 'done' }] });
  assert.deepEqual(toChatRequest(request, [{ type: 'message', role: 'user', content: 'go' }]).messages, [
    { role: 'user', content: 'go' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    { role: 'tool', tool_call_id: 'c1', content: 'done' },
  ]);
});

test('an output for a call the conversation never made is a 400 naming the item', () => {
  const request = parseResponsesRequest({ input: [{ role: 'user', content: 'x' }, { type: 'function_call_output', call_id: 'call_zzz', output: '1' }] });
  assert.throws(
    () => toChatRequest(request, history),
    (err: HttpException) => err.getStatus() === 400 && (err.getResponse() as { error: { param: string } }).error.param === 'input[1].call_id',
  );
});

test('a function call left without its output is a 400 before any upstream call', () => {
  const request = parseResponsesRequest({ input: [{ type: 'function_call_output', call_id: 'call_a', output: '18C' }, { role: 'user', content: 'and Lyon?' }] });
  assert.throws(
    () => toChatRequest(request, history),
    (err: HttpException) => {
      const { error } = err.getResponse() as { error: { param: string; message: string } };
      return err.getStatus() === 400 && error.param === 'input' && error.message.includes('call_b');
    },
  );
});
