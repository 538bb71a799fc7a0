import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { periodWindow } from './budget-period.js';
import { DEFAULT_THRESHOLDS, tierFor, tierSpan } from './budget-tier.js';
import { tokenCostMicros, usdToMicros } from './usd.js';

describe('tierFor: threshold arithmetic on integer micro-dollars', () => {
  const budget = usdToMicros(15);
  const tier = (usd: number) => tierFor(usdToMicros(usd), budget, DEFAULT_THRESHOLDS);

  it('each threshold starts exactly at its share', () => {
    assert.equal(tier(0), 'normal');
    assert.equal(tier(10.499999), 'normal');
    assert.equal(tier(10.5), 'notice'); // 70 %
    assert.equal(tier(11.999999), 'notice');
    assert.equal(tier(12), 'downgrade'); // 80 %
    assert.equal(tier(14.249999), 'downgrade');
    assert.equal(tier(14.25), 'restricted'); // 95 %
    assert.equal(tier(14.999999), 'restricted');
    assert.equal(tier(15), 'exhausted');
    assert.equal(tier(20), 'exhausted');
  });

  it('a small spend never trips a high tier (the $0.40 of $15 case)', () => {
    assert.equal(tier(0.4), 'normal');
  });

  it('a float-unfriendly budget still splits exactly', () => {
    const b = usdToMicros(0.3);
    assert.equal(tierFor(usdToMicros(0.24), b, DEFAULT_THRESHOLDS), 'downgrade'); // 0.1 + 0.2 style drift would miss this
    assert.equal(tierFor(usdToMicros(0.21), b, DEFAULT_THRESHOLDS), 'notice');
  });

  it('custom thresholds', () => {
    assert.equal(tierFor(50, 100, { notice: 0.5, downgrade: 0.6, restrict: 0.9 }), 'notice');
    assert.equal(tierFor(90, 100, { notice: 0.5, downgrade: 0.6, restrict: 0.9 }), 'restricted');
  });

  it('tierSpan: the same tier as tierFor, and every spend inside its span has that tier (thresholds in order or not)', () => {
    for (const t of [DEFAULT_THRESHOLDS, { notice: 0.5, downgrade: 0.6, restrict: 0.9 }, { notice: 0.9, downgrade: 0.6, restrict: 0.95 }]) {
      for (let spent = 0; spent <= 110; spent++) {
        const span = tierSpan(spent, 100, t);
        assert.equal(span.tier, tierFor(spent, 100, t), `spent ${spent} of 100, ${JSON.stringify(t)}`);
        assert.ok(span.from <= spent && spent < span.below, `spent ${spent} inside [${span.from}, ${span.below})`);
        // Both ends: tiers only rise with spend, so a span whose first and last spend have its tier holds it throughout.
        assert.equal(tierFor(span.from, 100, t), span.tier);
        if (Number.isFinite(span.below)) {
          assert.equal(tierFor(span.below - 1, 100, t), span.tier, `the last spend of [${span.from}, ${span.below})`);
        }
      }
    }
  });

  it('token cost rounds up to a whole micro-dollar', () => {
    assert.equal(tokenCostMicros(1, 0, { inputPerMTok: 0.1, outputPerMTok: 0 }), 1);
    assert.equal(tokenCostMicros(1000, 500, { inputPerMTok: 3, outputPerMTok: 15 }), 10_500);
  });
});

describe('periodWindow (UTC)', () => {
  it('month: calendar month, the key changes at the boundary', () => {
    const w = periodWindow('month', Date.UTC(2026, 10, 30, 23, 59, 59, 999));
    assert.equal(w.key, '2026-11');
    assert.equal(new Date(w.start).toISOString(), '2026-11-01T00:00:00.000Z');
    assert.equal(new Date(w.end).toISOString(), '2026-12-01T00:00:00.000Z');
    assert.equal(periodWindow('month', w.end).key, '2026-12');
    assert.equal(periodWindow('month', Date.UTC(2026, 11, 31, 12)).end, Date.UTC(2027, 0, 1));
  });

  it('day and ISO week (Monday start)', () => {
    const wed = Date.UTC(2026, 10, 25, 14); // a Wednesday
    assert.equal(periodWindow('day', wed).key, '2026-11-25');
    const week = periodWindow('week', wed);
    assert.equal(new Date(week.start).toISOString(), '2026-11-23T00:00:00.000Z');
    assert.equal(week.end - week.start, 7 * 86_400_000);
    assert.equal(periodWindow('week', Date.UTC(2026, 10, 29, 23)).key, week.key); // Sunday: same week
    assert.notEqual(periodWindow('week', Date.UTC(2026, 10, 30, 0)).key, week.key); // Monday: next week
  });
});
