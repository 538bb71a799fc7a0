import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Observable, VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { AttemptTimer } from './attempt-timeout.js';

/** Emits at the given virtual times, then completes at `endAt`. */
function emitting(scheduler: VirtualTimeScheduler, at: number[], endAt: number): Observable<number> {
  return new Observable<number>((subscriber) => {
    const subs = at.map((t, i) => scheduler.schedule(() => subscriber.next(i), t));
    subs.push(scheduler.schedule(() => subscriber.complete(), endAt));
    return () => subs.forEach((s) => s.unsubscribe());
  });
}

/** The source's values, its end, or the timer's timeout, whichever comes first, as `time:what` (the timer is told each value, as an attempt tells it). */
function run(at: number[], endAt: number, firstMs: number, eachMs?: number) {
  const scheduler = new VirtualTimeScheduler(VirtualAction, Infinity);
  const seen: string[] = [];
  const timer = new AttemptTimer(firstMs, eachMs, scheduler, {
    timedOut: () => {
      seen.push(`${scheduler.now()}:timeout`);
      subscription.unsubscribe();
    },
  });
  timer.start();
  const subscription = emitting(scheduler, at, endAt).subscribe({
    next: (v) => {
      timer.value();
      seen.push(`${scheduler.now()}:${v}`);
    },
    complete: () => {
      timer.stop();
      seen.push(`${scheduler.now()}:done`);
    },
  });
  scheduler.flush();
  return seen;
}

test('no first value within firstMs: the timeout at firstMs', () => {
  assert.deepEqual(run([150], 200, 100), ['100:timeout']);
});

test('one value in time, no gap limit: later silence is allowed (a JSON answer)', () => {
  assert.deepEqual(run([50], 10_000, 100), ['50:0', '10000:done']);
});

test('a gap limit shorter than the first-value limit applies from the first value on', () => {
  assert.deepEqual(run([10], 5_000, 1_000, 100), ['10:0', '110:timeout']);
});

test('values that keep coming within the gap limit never time out, however long the stream', () => {
  const at = Array.from({ length: 50 }, (_, i) => 20 + i * 90);
  const seen = run(at, at.at(-1)! + 50, 100, 100);
  assert.equal(seen.length, 51);
  assert.equal(seen.at(-1), `${at.at(-1)! + 50}:done`);
});

test('a stall after several values: the timeout one gap after the last value', () => {
  assert.deepEqual(run([10, 60, 110], 10_000, 100, 100), ['10:0', '60:1', '110:2', '210:timeout']);
});

test('a value due at the limit but run after the timer (a late event loop) still counts: the timer looks once more first', () => {
  // The timer's action and the value share time 100; the timer's was queued first, as a late loop runs timers before reads.
  assert.deepEqual(run([100], 200, 100), ['100:0', '200:done']);
});

test('after the one more look, a value still missing is a timeout, at the same time', () => {
  assert.deepEqual(run([101], 200, 100), ['100:timeout']);
});
