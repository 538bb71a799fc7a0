import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GCProfiler, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ShutdownGrace, type GraceBound } from './shutdown-grace.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A call that notes the error it is told. */
class Call implements GraceBound {
  told: unknown[] = [];
  graceOver(err: unknown): void {
    this.told.push(err);
  }
}

test('when the grace is over, the calls still holding it are told, once each; released ones are not', () => {
  const grace = new ShutdownGrace();
  const [a, b, c] = [new Call(), new Call(), new Call()];
  const places = [a, b, c].map((call) => grace.hold(call)!);
  places[1]!.release();
  places[1]!.release(); // twice: no harm
  grace.end();
  grace.end(); // twice: told once
  assert.equal(a.told.length, 1);
  assert.equal(b.told.length, 0);
  assert.equal(c.told.length, 1);
  assert.match(String((a.told[0] as Error).message), /shutting down/);
  places[0]!.release(); // after the end: no harm
});

test('a call that holds the grace once it is over is told at once and gets no place', () => {
  const grace = new ShutdownGrace();
  grace.end();
  const late = new Call();
  assert.equal(grace.hold(late), undefined);
  assert.equal(late.told.length, 1);
});

test('the list stays whole whatever order the calls leave in', () => {
  const grace = new ShutdownGrace();
  const calls = Array.from({ length: 6 }, () => new Call());
  const places = calls.map((call) => grace.hold(call)!);
  for (const i of [0, 5, 2]) places[i]!.release();
  grace.end();
  assert.deepEqual(
    calls.map((call) => call.told.length),
    [0, 1, 0, 1, 1, 0],
  );
});

/** Bytes moved into the old generation by the young collections while `work` runs. */
function promotedBy(work: () => void): number {
  const profiler = new GCProfiler();
  profiler.start();
  work();
  let promoted = 0;
  let scavenges = 0;
  for (const gc of profiler.stop().statistics) {
    if (gc.gcType !== 'Scavenge') continue;
    scavenges++;
    const oldUsed = (at: typeof gc.beforeGC) => at.heapSpaceStatistics.find((s) => s.spaceName === 'old_space')!.spaceUsedSize;
    promoted += oldUsed(gc.afterGC) - oldUsed(gc.beforeGC);
  }
  // With no young collection seen (another V8 may name it otherwise), nothing was measured: 0 promoted would pass.
  assert.ok(scavenges > 0, 'no scavenge during the work');
  return promoted;
}

test("released calls are not kept through the young generation's collections (a Set's old tables kept them all)", () => {
  const grace = new ShutdownGrace();
  /** 32 calls in flight, each with ~1 kB of its own, let go of in the order they came. */
  const run = (calls: number) => {
    const inFlight: { release(): void }[] = [];
    for (let i = 0; i < calls; i++) {
      const call = Object.assign(new Call(), { own: new Array<number>(128).fill(i) });
      inFlight.push(grace.hold(call)!);
      if (inFlight.length > 32) inFlight.shift()!.release();
    }
    for (const place of inFlight) place.release();
  };
  run(1_000);
  // In the old generation, as a long-lived service is after the gateway's start-up collection (or any full one).
  gc();
  const calls = 50_000;
  const promoted = promotedBy(() => run(calls));
  // ~1.1 kB allocated per call: a Set promoted nearly all of it (~50 MB); the list, next to nothing.
  assert.ok(promoted < calls * 100, `promoted ${Math.round(promoted / calls)} B per call`);
});
