import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { SeriesHistogram } from './series-histogram.js';

const BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const LABELS = ['class', 'provider', 'model'] as const;

test("the exposition is prom-client's Histogram's, line for line, for the same observations", async () => {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({ name: 'h_seconds', help: 'latency', labelNames: [...LABELS], buckets: BUCKETS, registers: [theirs] });
  const histogram = new SeriesHistogram({ name: 'h_seconds', help: 'latency', labelNames: LABELS, buckets: BUCKETS, registers: [ours] });
  const series = [
    ['a', 'p', 'm'],
    ['b', 'p', 'other'],
    ['c "quoted"\\', 'q', 'n\nline'],
  ];
  // Values on the bounds, between them, above the last one and zero; a fixed sequence, as a run would see.
  let x = 7;
  for (let i = 0; i < 3_000; i++) {
    x = (x * 48_271) % 2_147_483_647;
    const [cls, provider, model] = series[x % series.length]!;
    const value = i % 10 === 0 ? BUCKETS[x % BUCKETS.length]! : i % 97 === 0 ? 500 : i % 89 === 0 ? 0 : (x % 150_000) / 1_000;
    reference.observe({ class: cls!, provider: provider!, model: model! }, value);
    histogram.observe(`${cls}\u0000${provider}\u0000${model}`, value);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
  assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON());
  // Cumulative across scrapes, and emptied by a reset as prom-client's.
  histogram.observe('a\u0000p\u0000m', 0.01);
  reference.observe({ class: 'a', provider: 'p', model: 'm' }, 0.01);
  assert.equal(await ours.metrics(), await theirs.metrics());
  ours.resetMetrics();
  theirs.resetMetrics();
  assert.equal(await ours.metrics(), await theirs.metrics());
});

test('a value that is not a finite number is refused, as prom-client refuses it', () => {
  const histogram = new SeriesHistogram({ name: 'n_seconds', help: 'n', labelNames: LABELS, buckets: BUCKETS, registers: [new Registry()] });
  assert.throws(() => histogram.observe('a\u0000p\u0000m', Number.NaN), TypeError);
  assert.throws(() => histogram.observe('a', 1), /1 label values, 3 expected/);
});
