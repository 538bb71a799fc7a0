import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveRange } from './time-range.js';

const now = Date.UTC(2026, 10, 25, 14, 30); // Wednesday 2026-11-25

test('resolveRange: the current UTC month, week (Monday), day; all; custom', () => {
  assert.deepEqual(resolveRange({}, 'month', now), { name: 'month', from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 11, 1) });
  assert.deepEqual(resolveRange({ period: 'week' }, 'month', now), { name: 'week', from: Date.UTC(2026, 10, 23), to: Date.UTC(2026, 10, 30) });
  assert.deepEqual(resolveRange({}, 'day', now), { name: 'day', from: Date.UTC(2026, 10, 25), to: Date.UTC(2026, 10, 26) });
  assert.equal(resolveRange({ period: 'all' }, 'month', now).from, 0);
  assert.deepEqual(resolveRange({ from: '2026-01-01', to: '2026-02-01' }, 'month', now), { name: 'custom', from: Date.UTC(2026, 0, 1), to: Date.UTC(2026, 1, 1) });
});

test('resolveRange: bad input is a 400', () => {
  for (const q of [{ period: 'year' }, { from: 'soon' }, { from: '2026-02-01', to: '2026-01-01' }]) {
    assert.throws(() => resolveRange(q, 'month', now), (err: { getStatus(): number }) => err.getStatus() === 400);
  }
});
