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


test('HeldEnds: an end that throws does not strand the ends queued after it', () => {
  const ends = new HeldEnds();
  const order: string[] = [];
  const release = ends.hold();
  ends.defer(() => {
    throw new Error('a broken response');
  });
  ends.defer(() => order.push('after'));
  release();
  assert.deepEqual(order, ['after']);
  assert.equal(ends.holding, false);
});

test('HeldEnds.holdUntil: the hold is released when registering its release throws (else every answer would wait)', () => {
  const ends = new HeldEnds();
  let kept: (() => void) | undefined;
  ends.holdUntil((release) => (kept = release));
  assert.equal(ends.holding, true);
  kept!();
  assert.throws(() =>
    ends.holdUntil(() => {
      throw new TypeError('afterWrite is not a function');
    }),
  );
  assert.equal(ends.holding, false);
  let ran = false;
  ends.defer(() => (ran = true));
  assert.equal(ran, true);
});
