import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTimerListKept, keepTimerList } from './timer-lists.js';

test('whole seconds keep their timer list; other durations, and past the longest timer, do not', () => {
  keepTimerList(41_000);
  assert.equal(isTimerListKept(41_000), true);
  for (const delay of [0, 1, 999, 1_500, 41_001, 2 ** 31 * 1000]) {
    keepTimerList(delay);
    assert.equal(isTimerListKept(delay), false, `${delay} ms`);
  }
});

test('at most 32 lists are kept, whatever durations come', () => {
  for (let s = 100; s < 200; s++) keepTimerList(s * 1000);
  let kept = 0;
  for (let s = 1; s < 1000; s++) if (isTimerListKept(s * 1000)) kept++;
  assert.equal(kept, 32);
});
