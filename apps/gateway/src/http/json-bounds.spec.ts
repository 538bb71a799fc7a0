import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonTextBreach } from './json-bounds.js';

const bounds = { maxDepth: 8, maxValues: 100 };
const breach = (text: string, b = bounds) => jsonTextBreach(Buffer.from(text), b);
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

test('a body within bounds passes', () => {
  assert.equal(breach('{"messages":[{"role":"user","content":"hi"}]}'), undefined);
  assert.equal(breach(nested(8)), undefined);
  assert.equal(breach(`[${Array.from({ length: 99 }, () => 1).join(',')}]`), undefined, 'the array and its 99 elements: 100 values');
});

test('nesting one level too deep', () => {
  assert.equal(breach(nested(9))?.code, 'json_too_deep');
  assert.equal(breach(`{"tools":[{"function":{"parameters":${nested(7)}}}]}`)?.code, 'json_too_deep');
});

test('5,000 levels deep, however it is spelled', () => {
  assert.equal(breach(`${'['.repeat(5_000)}${']'.repeat(5_000)}`, { maxDepth: 64, maxValues: 1e6 })?.code, 'json_too_deep');
});

test('too many values in total, however flat', () => {
  assert.equal(breach(`[${Array.from({ length: 100 }, () => 1).join(',')}]`)?.code, 'json_too_large');
  const wide = JSON.stringify({ properties: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`p${i}`, i])) });
  assert.equal(breach(wide)?.code, 'json_too_large');
});

test('brackets and commas inside strings, escaped quotes included, do not count', () => {
  const text = JSON.stringify({ content: `${'[{,'.repeat(1_000)} \\" ${'"[,'.repeat(1_000)}`, more: 'é, ü, 漢字 [' });
  assert.equal(breach(text), undefined);
});

test('a string ends at a quote after an even run of backslashes, not an odd one', () => {
  // `a` ends in one backslash (escaped as two): the quote after them closes it, and the brackets after it count.
  const evenRun = JSON.stringify({ a: 'ends in a backslash \\', b: [[[1]]] });
  assert.equal(breach(evenRun, { maxDepth: 3, maxValues: 100 })?.code, 'json_too_deep');
  // A backslash then a quote inside `a` (escaped as three backslashes and a quote): the string goes on past it.
  const oddRun = JSON.stringify({ a: 'a \\" then [[[[', b: 1 });
  assert.equal(breach(oddRun, { maxDepth: 1, maxValues: 100 }), undefined);
  assert.equal(breach('{"a":"unterminated [[[['), undefined, 'an unterminated string is left to JSON.parse');
});
