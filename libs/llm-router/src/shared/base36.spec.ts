import assert from 'node:assert/strict';
import { test } from 'node:test';
import { base36 } from './base36.js';

test('base36: the same text as toString(36)', () => {
  const numbers = [0, 1, 35, 36, 37, 1295, 1296, 46_655, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER, 2 ** 60, -7, 1.5];
  for (let n = 0; n < 50_000; n += 7) numbers.push(n);
  for (const n of numbers) assert.equal(base36(n), n.toString(36), String(n));
});
