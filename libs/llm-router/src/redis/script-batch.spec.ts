import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answer, integersIn, type Entry } from './script-batch.js';

/** A reply as ioredis hands it to the batch: its bytes, not decoded. */
const bytes = (text: string) => Buffer.from(text);

test("integersIn reads a ledger reply's integers in order from its bytes, signs included, whatever separates them", () => {
  assert.deepEqual(integersIn(bytes('1,0,-12;4503599627370497,7')), [1, 0, -12, 4503599627370497, 7]);
  assert.deepEqual(integersIn(bytes('0')), [0]);
  assert.deepEqual(integersIn(bytes('')), []);
  // A view into a larger read, as the decoder's Buffers may be: only its own bytes are read.
  assert.deepEqual(integersIn(bytes('99,1,2,99').subarray(3, 6)), [1, 2]);
});

test('answer: each entry its own figures; a reply of another length rejects every entry rather than hand out undefined figures', () => {
  const settled: unknown[] = [];
  const entry = (width: number, at: number): Entry => ({
    step: { width, decode: (values, from) => values.slice(from, from + width) },
    context: at,
    resolve: (v) => (settled[at] = v),
    reject: (e) => (settled[at] = e),
  });
  answer([entry(2, 0), entry(3, 1)], bytes('1,2;3,4,-5'));
  assert.deepEqual(settled, [[1, 2], [3, 4, -5]]);
  answer([entry(2, 0), entry(3, 1)], bytes('1,2;3,4'));
  assert.ok(settled.every((s) => s instanceof Error && /answered 4 figures for 5/.test(s.message)), String(settled));
  answer([entry(2, 0), entry(3, 1)], [bytes('!boom'), bytes('7,8,9')]);
  assert.deepEqual([(settled[0] as unknown as Error).message, settled[1]], ['boom', [7, 8, 9]]);
});
