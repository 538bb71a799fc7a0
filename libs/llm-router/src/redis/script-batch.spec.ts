import assert from 'node:assert/strict';
import { test } from 'node:test';
import { integersIn } from './script-batch.js';

test("integersIn reads a ledger reply's integers in order, signs included, whatever separates them", () => {
  assert.deepEqual(integersIn('1,0,-12;4503599627370497,7'), [1, 0, -12, 4503599627370497, 7]);
  assert.deepEqual(integersIn('0'), [0]);
  assert.deepEqual(integersIn(''), []);
});
