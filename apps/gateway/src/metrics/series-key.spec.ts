import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeriesKey, seriesLabels } from './series-key.js';

test('a kept series key is the label values joined, the same object on every use, and parses back to its labels', () => {
  const root = SeriesKey.root();
  const key = root.with('chat').with('openai').with('gpt');
  assert.equal(key.key, 'chat\u0000openai\u0000gpt');
  assert.equal(root.with('chat').with('openai').with('gpt'), key, 'made once, then kept');
  assert.notEqual(root.with('chat').with('openai').with('gpt-mini'), key);
  assert.deepEqual(seriesLabels(['class', 'provider', 'model'], key.key), { class: 'chat', provider: 'openai', model: 'gpt' });
});

test('an empty label value keeps its place in the key', () => {
  const key = SeriesKey.root().with('').with('x');
  assert.equal(key.key, '\u0000x');
  assert.deepEqual(seriesLabels(['a', 'b'], key.key), { a: '', b: 'x' });
});
