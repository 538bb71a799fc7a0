import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HeldEnds } from './held-ends.js';

test('HeldEnds: an end runs at once with no hold; else once every hold taken is released, in order; a release counts once', () => {
  const ends = new HeldEnds();
  const order: string[] = [];
  ends.defer(() => order.push('free'));
  assert.deepEqual(order, ['free']);
  const first = ends.hold();
  const second = ends.hold();
  assert.equal(ends.holding, true);
  ends.defer(() => order.push('a'));
  ends.defer(() => order.push('b'));
  first();
  first();
  assert.deepEqual(order, ['free'], 'the second hold still waits, however often the first is released');
  second();
  assert.deepEqual(order, ['free', 'a', 'b']);
  assert.equal(ends.holding, false);
});

