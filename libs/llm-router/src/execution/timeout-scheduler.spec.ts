import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { lastValueFrom, take, timer, toArray } from 'rxjs';
import { isTimerListKept } from '../shared/timer-lists.js';
import { timeoutScheduler } from './timeout-scheduler.js';

test('work runs once after its delay, with its state', async () => {
  const seen: string[] = [];
  const started = Date.now();
  timeoutScheduler.schedule((state) => seen.push(`${state}@${Date.now() - started >= 20 ? 'late-enough' : 'early'}`), 20, 'a');
  await sleep(60);
  assert.deepEqual(seen, ['a@late-enough']);
});

test('unsubscribed before its delay, work never runs', async () => {
  let ran = false;
  const sub = timeoutScheduler.schedule(() => (ran = true), 20);
  sub.unsubscribe();
  assert.equal(sub.closed, true);
  await sleep(50);
  assert.equal(ran, false);
});

test('work that schedules itself again keeps running (rxjs timer with a period)', async () => {
  const ticks = await lastValueFrom(timer(5, 5, timeoutScheduler).pipe(take(4), toArray()));
  assert.deepEqual(ticks, [0, 1, 2, 3]);
});

test('a finished action is closed', async () => {
  const sub = timeoutScheduler.schedule(() => undefined, 1);
  await sleep(20);
  assert.equal(sub.closed, true);
});

test('whole-second delays (kept timer lists) run and cancel as any other', async () => {
  let ran = false;
  const cancelled = timeoutScheduler.schedule(() => (ran = true), 1000);
  assert.equal(isTimerListKept(1000), true);
  cancelled.unsubscribe();
  const seen: number[] = [];
  const started = Date.now();
  timeoutScheduler.schedule(() => seen.push(Date.now() - started), 1000);
  await sleep(1100);
  assert.equal(ran, false);
  assert.equal(seen.length, 1);
});

test('pending timers share one callback: no closure per action (an open stream holds two timers for its life)', () => {
  const a = timeoutScheduler.schedule(() => undefined, 5_000, 'a');
  const b = timeoutScheduler.schedule(() => undefined, 5_000, 'b');
  try {
    const callback = (s: object) => (s as { timer: { _onTimeout: unknown } }).timer._onTimeout;
    assert.equal(typeof callback(a), 'function');
    assert.equal(callback(a), callback(b));
  } finally {
    a.unsubscribe();
    b.unsubscribe();
  }
});
