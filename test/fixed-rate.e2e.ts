/**
 * The fixed-rate table's arithmetic (bench/src/fixed-rate.ts): the rate offered is a share of the slowest
 * llm-router or floor target's saturation throughput (never Portkey's), and a target that served less than 97 % of
 * it is marked short.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseRate, fixedRateRows, fixedRateTable, type FixedRateMeasurement, type FixedRateResult } from '../bench/src/fixed-rate.js';
import type { LoadResult } from '../bench/src/load.js';
import type { ScenarioId, TargetId } from '../bench/src/scenarios.js';

const load = (rps: number): LoadResult => ({ requests: rps * 3, ok: rps * 3, non2xx: 0, errors: 0, seconds: 3, rps, p50: 1, p99: 2, mean: 1 });
const at = (round: number, target: TargetId, served: number, cpuUsPerReq: number, scenario: ScenarioId = 'stream', offered = 1000): FixedRateMeasurement => ({
  round,
  scenario,
  target,
  offered,
  load: load(served),
  cpuUsPerReq,
  ioCallsPerReq: 5,
});

test("the rate: a share of the slowest llm-router or floor target's throughput, Portkey's and the direct call's left out, a whole share per connection", () => {
  const capacities = { direct: 9000, ours: 2444, prod: 1845, portkey: 210, nest: 3100, bare: 4829 };
  assert.deepEqual(chooseRate('stream', capacities, 0.5, 1), { scenario: 'stream', rate: 922, slowest: 'prod', capacity: 1845 });
  // 922.5 over 32 connections: 28 a connection per second.
  assert.equal(chooseRate('stream', capacities, 0.5, 32).rate, 896);
  // At least one a connection a second, while that stays below the target's capacity.
  assert.equal(chooseRate('stream', { ours: 40 }, 0.5, 32).rate, 32);
  assert.throws(() => chooseRate('stream', { ours: 30 }, 0.5, 32), /not below ours's capacity/);
  // A target not measured (or measured at nothing) does not set the rate.
  assert.equal(chooseRate('single', { ours: 1881, prod: Number.NaN, bare: 0, nest: 2500 }, 0.4, 1).rate, 752);
  assert.throws(() => chooseRate('single', { portkey: 200, direct: 5000 }, 0.5, 32), /no saturation throughput/);
});

test('a target that served less than 97 % of the offered rate (median over the rounds) is marked short; one short round alone is counted, not marked', () => {
  const rows = fixedRateRows([
    at(0, 'bare', 1000, 150),
    at(0, 'ours', 1000, 300),
    at(0, 'prod', 950, 450),
    at(1, 'bare', 1000, 100),
    at(1, 'ours', 960, 300),
    at(1, 'prod', 969, 330),
    at(2, 'bare', 1000, 200),
    at(2, 'ours', 999, 300),
    at(2, 'prod', 971, 300),
  ]);
  const row = (t: TargetId) => rows.find((r) => r.target === t)!;
  assert.equal(row('bare').short, false);
  assert.equal(row('ours').short, false);
  assert.equal(row('ours').shortRounds, 1);
  assert.equal(row('prod').short, true);
  assert.equal(row('prod').served, 969);
  assert.equal(row('prod').shortRounds, 2);
  // Exactly 97 % is served.
  assert.equal(fixedRateRows([at(0, 'bare', 970, 100)])[0]!.short, false);
  // Ratios paired by round, then the median: prod/ours 1.5, 1.1, 1.0; ours/bare 2, 3, 1.5.
  assert.equal(row('prod').xOurs, 1.1);
  assert.equal(row('ours').xBare, 2);
  assert.equal(row('prod').cpuUsPerReq, 330);
  assert.equal(row('bare').xBare, undefined);

  const result: FixedRateResult = {
    settings: { fraction: 0.5, client: 'autocannon', conns: 32, duration: 3, rounds: 3 },
    rates: [{ scenario: 'stream', rate: 1000, slowest: 'prod', capacity: 2000 }],
    measurements: [],
    rows,
  };
  const table = fixedRateTable(result, []);
  assert.match(table, /production config \| 1000 \| 969 \*\*short\*\* \(below 97 % in 2 of 3 rounds\)/);
  assert.doesNotMatch(table.split('\n').find((l) => l.includes('bare node:http proxy'))!, /short|below/);
});
