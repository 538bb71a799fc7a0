import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { SeriesCounter } from './series-counter.js';

test('totals per series reach the exposition, and stay cumulative across scrapes', async () => {
  const registry = new Registry();
  const counter = new SeriesCounter({ name: 'x_total', help: 'x', labelNames: ['class', 'kind'] as const, registers: [registry] });
  counter.inc('a\u0000p');
  counter.inc('a\u0000p', 2.5);
  counter.inc('b\u0000c', 7);
  const first = await registry.metrics();
  assert.match(first, /^x_total\{class="a",kind="p"\} 3\.5$/m);
  assert.match(first, /^x_total\{class="b",kind="c"\} 7$/m);
  counter.inc('b\u0000c');
  const second = await registry.metrics();
  assert.match(second, /^x_total\{class="a",kind="p"\} 3\.5$/m);
  assert.match(second, /^x_total\{class="b",kind="c"\} 8$/m);
});

test('a key with the wrong number of label values is refused', () => {
  const counter = new SeriesCounter({ name: 'y_total', help: 'y', labelNames: ['class', 'kind'] as const, registers: [new Registry()] });
  assert.throws(() => counter.inc('a'), /1 label values, 2 expected/);
});
