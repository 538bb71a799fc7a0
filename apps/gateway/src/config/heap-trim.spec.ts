import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapSpaceStatistics } from 'node:v8';
import { trimHeap } from './heap-trim.js';

const newSpaceMB = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.physical_space_size / 2 ** 20;

/** Many objects that outlive a few young-generation collections: V8 grows the young generation, as a gateway's start does. */
function growYoungGeneration(): void {
  let kept: object[] = [];
  for (let i = 0; i < 3_000_000; i++) {
    kept.push({ i, s: `x${i}` });
    if (kept.length > 300_000) kept = [];
  }
}

test('trimHeap hands the grown young generation back (an ordinary collection keeps it)', async () => {
  growYoungGeneration();
  const grown = newSpaceMB();
  assert.ok(grown >= 8, `the young generation grew (${grown.toFixed(1)} MB)`);
  assert.equal(await trimHeap(), true);
  const trimmed = newSpaceMB();
  assert.ok(trimmed < grown / 4, `young generation ${grown.toFixed(1)} -> ${trimmed.toFixed(1)} MB`);
  // The session is let go of: the process exits on its own (the test runner would wait for it otherwise).
});
