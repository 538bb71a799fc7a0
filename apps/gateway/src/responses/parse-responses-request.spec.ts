import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpException } from '@nestjs/common';
import { parseResponsesRequest } from './parse-responses-request.js';

/** The 400 a body is refused with: its code and param. */
function refusal(body: unknown): { status: number; code: unknown; param: unknown; message: string } {
  try {
    parseResponsesRequest(body);
  } catch (err) {
    const { error } = (err as HttpException).getResponse() as { error: { type: string; code: unknown; param: unknown; message: string } };
    assert.equal(error.type, 'invalid_request_error');
    return { status: (err as HttpException).getStatus(), code: error.code, param: error.param, message: error.message };
  }
  throw new Error('the body was accepted');
}

test('a string input is one user message; nulls are dropped; the settings are kept', () => {
  const request = parseResponsesRequest({ model: 'auto', input: 'hi', instructions: 'be brief', temperature: null, max_output_tokens: 50, store: false, metadata: { team: 'a' } });
  assert.deepEqual(request, { model: 'auto', input: [{ type: 'message', role: 'user', content: 'hi' }], instructions: 'be brief', max_output_tokens: 50, store: false, metadata: { team: 'a' } });
});

test('input items: messages with parts, function calls and their outputs; an item without a type is a message', () => {
  const request = parseResponsesRequest({
    input: [
      { role: 'user', content: [{ type: 'input_text', text: 'look' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA' }] },
      { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'ok', annotations: [] }] },
      { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'lookup', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: '42', id: null, status: null },
    ],
  });
  assert.deepEqual(request.input, [
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'look' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'auto' }] },
    { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'ok', annotations: [] }] },
    { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'lookup', arguments: '{}' },
    { type: 'function_call_output', call_id: 'call_1', output: '42' },
  ]);
});

test('bad input is a 400 naming the parameter', () => {
  assert.deepEqual(refusal([]), { status: 400, code: 'invalid_body', param: null, message: 'The request body must be a JSON object.' });
  assert.equal(refusal({}).param, 'input');
  assert.equal(refusal({ input: '' }).param, 'input');
  assert.equal(refusal({ input: 'hi', temperature: 3 }).param, 'temperature');
  assert.equal(refusal({ input: 'hi', metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }).param, 'metadata');
  assert.equal(refusal({ input: [{ role: 'user', content: 'a' }, { type: 'function_call_output', output: 'x' }] }).param, 'input[1].call_id');
  assert.equal(refusal({ input: [{ role: 'tool', content: 'a' }] }).param, 'input[0].role');
  assert.equal(refusal({ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] }).param, 'input[0].content[0].image_url');
  const image = refusal({ input: [{ role: 'assistant', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }] });
  assert.equal(image.param, 'input[0].content[0]');
});

test('what the gateway does not run is refused, never ignored: unknown parameters, hosted tools, other item types', () => {
  assert.deepEqual(
    { ...refusal({ input: 'hi', reasoning: { effort: 'high' } }), message: undefined },
    { status: 400, code: 'unsupported_parameter', param: 'reasoning', message: undefined },
  );
  const hosted = refusal({ input: 'hi', tools: [{ type: 'function', name: 'f' }, { type: 'web_search' }] });
  assert.equal(hosted.code, 'unsupported_tool_type');
  assert.equal(hosted.param, 'tools[1].type');
  const reference = refusal({ input: [{ type: 'item_reference', id: 'msg_1' }] });
  assert.equal(reference.code, 'unsupported_item_type');
  assert.equal(reference.param, 'input[0].type');
});
