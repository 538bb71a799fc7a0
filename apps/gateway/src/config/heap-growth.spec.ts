import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyHeapGrowth, DEFAULT_HEAP_GROWING_PERCENT, heapGrowthFromEnv } from './heap-growth.js';

test('unset, the gateway bounds the old generation growth by its default', () => {
  assert.deepEqual(heapGrowthFromEnv({}, []), { percent: DEFAULT_HEAP_GROWING_PERCENT, source: 'default' });
  assert.deepEqual(heapGrowthFromEnv({ LLM_HEAP_GROWING_PERCENT: ' ' }, []), { percent: DEFAULT_HEAP_GROWING_PERCENT, source: 'default' });
});

test('LLM_HEAP_GROWING_PERCENT sets it, and 0 leaves the sizing to V8', () => {
  assert.deepEqual(heapGrowthFromEnv({ LLM_HEAP_GROWING_PERCENT: '60' }, []), { percent: 60, source: 'LLM_HEAP_GROWING_PERCENT' });
  assert.deepEqual(heapGrowthFromEnv({ LLM_HEAP_GROWING_PERCENT: '0' }, []), { source: 'LLM_HEAP_GROWING_PERCENT' });
});

test('a --heap-growing-percent given to node itself wins over the variable and the default', () => {
  assert.deepEqual(heapGrowthFromEnv({ LLM_HEAP_GROWING_PERCENT: '25' }, ['--heap-growing-percent=80']), { source: 'node flag' });
  assert.deepEqual(heapGrowthFromEnv({}, ['--inspect-port=0', '--heap_growing_percent', '80']), { source: 'node flag' });
  assert.deepEqual(heapGrowthFromEnv({}, ['--heap-growing-percentage=80']), { percent: DEFAULT_HEAP_GROWING_PERCENT, source: 'default' });
  // The start-up line says node's flag decides, not V8's own sizing.
  assert.match(applyHeapGrowth({ source: 'node flag' }), /node's own --heap-growing-percent/);
  assert.match(applyHeapGrowth({ source: 'LLM_HEAP_GROWING_PERCENT' }), /V8 sizes the old generation itself/);
});

test('anything but a whole number from 0 to 300 stops the start with the variable named', () => {
  for (const bad of ['-5', '1.5', 'sixty', '301', '60%']) {
    assert.throws(() => heapGrowthFromEnv({ LLM_HEAP_GROWING_PERCENT: bad }, []), /LLM_HEAP_GROWING_PERCENT must be a whole number from 0/);
  }
});
