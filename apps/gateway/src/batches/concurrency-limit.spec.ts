import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConcurrencyLimit } from './concurrency-limit.js';

describe('ConcurrencyLimit', () => {
  it('a wait with a limit gives up when no place comes in time: nothing held, and the next release goes to the next waiter', async () => {
    const limit = new ConcurrencyLimit(1);
    const never = new AbortController().signal;
    assert.equal(await limit.acquire(never), true);
    assert.equal(await limit.acquire(never, 20), false, 'no place within 20 ms');
    const next = limit.acquire(never);
    limit.release();
    const stuck = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1_000).unref());
    assert.equal(await Promise.race([next, stuck]), true, 'the place went to the waiter still waiting, not to the one that gave up');
  });

  it('a place that comes within the wait is held; an abort ends the wait with nothing held', async () => {
    const limit = new ConcurrencyLimit(1);
    const never = new AbortController().signal;
    await limit.acquire(never);
    const within = limit.acquire(never, 5_000);
    setTimeout(() => limit.release(), 10);
    assert.equal(await within, true);
    const aborted = new AbortController();
    const waiting = limit.acquire(aborted.signal, 5_000);
    aborted.abort();
    assert.equal(await waiting, false);
  });
});
