import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SseEvent } from './sse-decoder.js';
import { sseEvents } from '../../testing/sse-events.spec-helper.js';

/** The events of `text` fed whole, then fed one character at a time: both must agree. */
function events(text: string): SseEvent[] {
  const all = sseEvents(text);
  const each = sseEvents(...text);
  assert.deepEqual(each, all, 'fed one character at a time');
  return all;
}

test('one data line per event, LF and CRLF endings', () => {
  assert.deepEqual(events('data: {"a":1}\n\ndata: [DONE]\r\n\r\n'), [
    { event: undefined, data: '{"a":1}' },
    { event: undefined, data: '[DONE]' },
  ]);
});

test('several data lines are joined with LF; the event field names the event', () => {
  assert.deepEqual(events('event: error\ndata: one\ndata:two\ndata\n\n'), [{ event: 'error', data: 'one\ntwo\n' }]);
});

test('comments, unknown fields and a single space after the colon', () => {
  assert.deepEqual(events(': ping\nid: 7\nretry: 10\ndata:  two spaces\n\n'), [{ event: undefined, data: ' two spaces' }]);
});

test('an event with only an event field, an empty data line, a field without a colon', () => {
  assert.deepEqual(events('event: ping\n\ndata:\n\ndatum\ndata: x:y\n\n'), [
    { event: 'ping', data: '' },
    { event: undefined, data: '' },
    { event: undefined, data: 'x:y' },
  ]);
});

test('an event left unterminated at the end is flushed, a lone line too', () => {
  assert.deepEqual(events('data: a\n\ndata: b'), [
    { event: undefined, data: 'a' },
    { event: undefined, data: 'b' },
  ]);
  assert.deepEqual(events('data: c\n'), [{ event: undefined, data: 'c' }]);
});
