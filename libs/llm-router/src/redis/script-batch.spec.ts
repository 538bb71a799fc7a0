import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import type { RedisScript } from './redis-script.js';
import { answer, integersIn, ScriptBatch, type Entry } from './script-batch.js';

/** A reply as ioredis hands it to the batch: its bytes, not decoded. */
const bytes = (text: string) => Buffer.from(text);

/** Entries of `width` figures that each put what they are settled with at their place in `settled`. */
const entryInto =
  (settled: unknown[]) =>
  (width: number, at: number): Entry => ({
    step: { width, decode: (values, from) => values.slice(from, from + width) },
    context: at,
    resolve: (v) => (settled[at] = v),
    reject: (e) => (settled[at] = e),
  });

test("integersIn reads a ledger reply's integers in order from its bytes, signs included, whatever separates them", () => {
  assert.deepEqual(integersIn(bytes('1,0,-12;4503599627370497,7')), [1, 0, -12, 4503599627370497, 7]);
  assert.deepEqual(integersIn(bytes('0')), [0]);
  assert.deepEqual(integersIn(bytes('')), []);
  // A view into a larger read, as the decoder's Buffers may be: only its own bytes are read.
  assert.deepEqual(integersIn(bytes('99,1,2,99').subarray(3, 6)), [1, 2]);
});

test('answer: each entry its own figures; a reply of another length rejects every entry rather than hand out undefined figures', () => {
  const settled: unknown[] = [];
  const entry = entryInto(settled);
  answer([entry(2, 0), entry(3, 1)], bytes('1,2;3,4,-5'));
  assert.deepEqual(settled, [[1, 2], [3, 4, -5]]);
  answer([entry(2, 0), entry(3, 1)], bytes('1,2;3,4'));
  assert.ok(settled.every((s) => s instanceof Error && /answered 4 figures for 5/.test(s.message)), String(settled));
  answer([entry(2, 0), entry(3, 1)], [bytes('!boom'), bytes('7,8,9')]);
  assert.deepEqual([(settled[0] as unknown as Error).message, settled[1]], ['boom', [7, 8, 9]]);
});

test('answer: a missing or unreadable part rejects its entry (or all, for no reply), never throws', () => {
  const settled: unknown[] = [];
  const entry = entryInto(settled);
  const message = (at: number) => (settled[at] as Error).message;
  answer([entry(1, 0), entry(1, 1), entry(2, 2)], [bytes('5'), null, bytes('6')]);
  assert.deepEqual([settled[0], message(1), message(2)], [[5], 'no answer', 'the batch script answered 1 figures for 2']);
  answer([entry(1, 0), entry(1, 1)], [bytes('5')]);
  assert.deepEqual([settled[0], message(1)], [[5], 'no answer']);
  answer([entry(1, 0), entry(1, 1)], null);
  assert.deepEqual([message(0), message(1)], ['the batch script answered nothing', 'the batch script answered nothing']);
});

test('a reply the entries cannot decode rejects their promises, not the process', async () => {
  const script = { run: async () => bytes('1;2') } as unknown as RedisScript;
  const batch = new ScriptBatch({} as Redis, script, 1);
  const step = {
    width: 1,
    decode: (values: readonly number[], at: number) => {
      if (values[at] === 2) throw new Error('cannot decode 2');
      return values[at];
    },
  };
  const first = batch.add('g', ['k'], step, undefined, []);
  const second = batch.add('g', ['k'], step, undefined, []);
  batch.flush();
  assert.equal(await first, 1);
  await assert.rejects(second, /cannot decode 2/);
});
