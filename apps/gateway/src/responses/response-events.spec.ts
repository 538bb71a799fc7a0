import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatCompletionChunk } from '@llm-router/nestjs';
import { ResponseEvents } from './response-events.js';
import { parseResponsesRequest } from './parse-responses-request.js';

const frame = { id: 'resp_1', createdAt: 1_700_000_000, request: parseResponsesRequest({ input: 'hi' }), model: 'premium-a', store: true };

function chunk(delta: ChatCompletionChunk['choices'][0]['delta'], finish: ChatCompletionChunk['choices'][0]['finish_reason'] = null): ChatCompletionChunk {
  return { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] };
}

/** The SSE text as its events: [event name, data]. */
function parse(text: string): Array<[string, any]> {
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const [event, data] = block.split('\n');
      assert.match(event!, /^event: /);
      assert.match(data!, /^data: /);
      const parsed = JSON.parse(data!.slice(6));
      assert.equal(parsed.type, event!.slice(7));
      return [parsed.type, parsed];
    });
}

test('a text stream: created, in_progress, the message item and its part, deltas, the closing events, completed with usage', () => {
  const events = new ResponseEvents(frame);
  let text = events.start();
  text += events.chunk(chunk({ role: 'assistant', content: '' }), undefined);
  text += events.chunk(chunk({ content: 'Hel' }), undefined);
  text += events.chunk(chunk({ content: 'lo' }, 'stop'), undefined);
  text += events.chunk({ ...chunk({}), choices: [] }, { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
  const finished = events.finish();
  text += finished.text + events.completed(finished.response);
  const all = parse(text);
  assert.deepEqual(
    all.map(([type]) => type),
    [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ],
  );
  assert.deepEqual(all.map(([, e]) => e.sequence_number), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const created = all[0]![1].response;
  assert.equal(created.status, 'in_progress');
  assert.deepEqual(created.output, []);
  const added = all[2]![1];
  assert.deepEqual({ ...added.item, id: undefined }, { type: 'message', id: undefined, role: 'assistant', status: 'in_progress', content: [] });
  assert.equal(all[6]![1].text, 'Hello');
  const completed = all[9]![1].response;
  assert.equal(completed.status, 'completed');
  assert.deepEqual(completed.output[0].content, [{ type: 'output_text', text: 'Hello', annotations: [], logprobs: [] }]);
  assert.equal(completed.output[0].id, added.item.id);
  assert.deepEqual(completed.usage, { input_tokens: 3, input_tokens_details: { cached_tokens: 0 }, output_tokens: 2, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 5 });
});

test('tool calls: text closes when a call starts; each call is a function_call item with its arguments streamed', () => {
  const events = new ResponseEvents(frame);
  let text = events.start();
  text += events.chunk(chunk({ content: 'Checking.' }), undefined);
  text += events.chunk(chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '' } }] }), undefined);
  text += events.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] }), undefined);
  text += events.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] }, 'tool_calls'), undefined);
  const finished = events.finish();
  text += finished.text + events.completed(finished.response);
  const all = parse(text);
  assert.deepEqual(
    all.map(([type]) => type),
    [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ],
  );
  assert.equal(all[8]![1].output_index, 1);
  assert.deepEqual({ ...all[8]![1].item, id: undefined }, { type: 'function_call', id: undefined, call_id: 'call_1', name: 'lookup', arguments: '', status: 'in_progress' });
  assert.equal(all[11]![1].arguments, '{"q":"x"}');
  const output = all[13]![1].response.output;
  assert.equal(output.length, 2);
  assert.deepEqual({ ...output[1], id: undefined }, { type: 'function_call', id: undefined, call_id: 'call_1', name: 'lookup', arguments: '{"q":"x"}', status: 'completed' });
});

test('cut by the token limit: the message is incomplete and the stream ends with response.incomplete', () => {
  const events = new ResponseEvents(frame);
  events.start();
  events.chunk(chunk({ content: 'abc' }, 'length'), undefined);
  const finished = events.finish();
  const last = parse(events.completed(finished.response))[0]!;
  assert.equal(last[0], 'response.incomplete');
  assert.equal(last[1].response.status, 'incomplete');
  assert.deepEqual(last[1].response.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(last[1].response.output[0].status, 'incomplete');
});

test('a stream that breaks: response.failed with the error and what was produced so far', () => {
  const events = new ResponseEvents(frame);
  events.start();
  events.chunk(chunk({ content: 'par' }), undefined);
  const [[type, data]] = parse(events.failed({ code: 'upstream_stream_error', message: 'cut' }));
  assert.equal(type, 'response.failed');
  assert.equal(data.response.status, 'failed');
  assert.deepEqual(data.response.error, { code: 'upstream_stream_error', message: 'cut' });
  assert.equal(data.response.output.length, 1);
});
