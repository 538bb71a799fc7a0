/**
 * The memory benchmark's heap-snapshot summary (bench/src/heap-snapshot.ts)
 * on a real V8 snapshot of this process: objects built here with known
 * counts and sizes are grouped under their constructors, and the retained
 * sizes follow from who dominates whom.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeHeapSnapshot } from 'node:v8';
import { summarizeHeapSnapshot } from '../bench/src/heap-snapshot.js';

class HeapProbeItem {
  constructor(readonly text: string) {}
}

/** Holds its items alone: it dominates them, so it retains at least all of their strings. */
class HeapProbeOwner {
  readonly items: HeapProbeItem[] = [];
}

/** Two owners share one item: neither dominates it. */
class HeapProbeShared {
  constructor(readonly item: HeapProbeItem) {}
}

test('a heap snapshot summarized by constructor: counts, shallow and retained sizes from the dominator tree', () => {
  const owner = new HeapProbeOwner();
  // Flat, distinct strings of 1,024 one-byte characters each (hex), held by nothing else.
  for (let i = 0; i < 2000; i++) owner.items.push(new HeapProbeItem(randomBytes(512).toString('hex')));
  const shared = new HeapProbeItem(randomBytes(32 * 1024).toString('hex'));
  const both = [new HeapProbeShared(shared), new HeapProbeShared(shared)];
  const dir = mkdtempSync(join(tmpdir(), 'heap-summary-'));
  try {
    const summary = summarizeHeapSnapshot(writeHeapSnapshot(join(dir, 'probe.heapsnapshot')), 500);
    const group = (name: string) => summary.groups.find((g) => g.name === name);
    const items = group('HeapProbeItem');
    const owners = group('HeapProbeOwner');
    const sharers = group('HeapProbeShared');
    assert.ok(items && owners && sharers, 'every probe class is a group');
    assert.equal(items.count, 2001);
    assert.equal(owners.count, 1);
    assert.equal(sharers.count, 2);
    // 2,000 strings of 1 KB (one byte a character) under the owner alone.
    assert.ok(owners.retainedBytes >= 2000 * 1024, `the owner retains its items' strings: ${owners.retainedBytes}`);
    assert.ok(items.retainedBytes >= 2000 * 1024 + 64 * 1024, `the items retain their strings: ${items.retainedBytes}`);
    // The shared item is held by two objects: neither retains its 64 KB string.
    assert.ok(sharers.retainedBytes < 64 * 1024, `a shared object is retained by neither holder: ${sharers.retainedBytes}`);
    assert.ok(summary.totalBytes > owners.retainedBytes);
    assert.ok(summary.retainers.some((r) => r.name.startsWith('HeapProbeOwner') || r.name.includes('held by HeapProbeOwner')), 'the owner is among the biggest retainers');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(both.length + owner.items.length, 2002);
});
