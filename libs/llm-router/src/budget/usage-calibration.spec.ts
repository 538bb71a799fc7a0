import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageCalibration } from './usage-calibration.js';

/** A calibration fed `reports` of [estimated, reported] prompt tokens for model "m". */
function after(...reports: Array<[number, number]>): UsageCalibration {
  const c = new UsageCalibration();
  for (const [estimated, reported] of reports) c.observe('m', estimated, reported);
  return c;
}

const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);

describe('UsageCalibration', () => {
  it('corrects by nothing before a report, and never by less than 1', () => {
    assert.equal(after().correction('m'), 1);
    const fewer = after([1_000, 600]);
    assert.equal(fewer.ratio('m'), 0.6);
    assert.equal(fewer.correction('m'), 1, 'a provider counting fewer tokens does not shrink reservations');
  });

  it('takes the first report as it is, then rises fast and falls slowly, per model', () => {
    assert.equal(after([1_000, 4_000]).correction('m'), 4);
    near(after([1_000, 4_000], [1_000, 1_000]).correction('m'), 3.85);
    near(after([1_000, 4_000], [1_000, 1_000], [1_000, 8_000]).correction('m'), 5.925);
    assert.equal(after([1_000, 4_000]).correction('other'), 1);
  });

  it('bounds each ratio to 0.25..16 and ignores reports it cannot read', () => {
    assert.equal(after([10, 1_000_000]).correction('m'), 16);
    assert.equal(after([1_000, 0]).ratio('m'), 0.25);
    assert.equal(after([0, 100], [100, Number.NaN]).ratio('m'), undefined);
  });
});
