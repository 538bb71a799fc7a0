/**
 * `npm run bench -- fixed-rate`: CPU per request at a fixed offered rate (the default run's section, without the
 * rest): the fleet, each target's saturation throughput at 32 connections (two loads each, after a warm-up), then the
 * fixed-rate rounds. Writes bench/results/fixed-rate.md.
 */
import { benchConfig } from './config.js';
import { runBenchEntry } from './entry.js';
import { FIXED_RATE_SCENARIOS, FIXED_RATE_TARGETS, fixedRateNote, fixedRateSettings, fixedRateTable, runFixedRate } from './fixed-rate.js';
import { startFleet } from './fleet.js';
import { median, rotate, runAutocannon } from './load.js';
import { machineLine, writeResults } from './results.js';
import { scenarios as defineScenarios, TARGET_LABELS, type ScenarioId, type TargetId } from './scenarios.js';

/** Seconds of warm-up per target (at least), and saturation loads per target for the rate (median). */
const WARMUP_S = 3;
const CAPACITY_ROUNDS = 2;

const log = (s: string) => process.stderr.write(`[fixed-rate] ${s}\n`);

runBenchEntry(log, async ({ host, startProduction }) => {
  const cfg = benchConfig();
  const started = Date.now();
  const production = cfg.production ? await startProduction() : undefined;
  const fleet = await startFleet(log, { fallback: false, production });
  const settings = fixedRateSettings(cfg);
  const chosen = defineScenarios(fleet.endpoints).filter((s) => FIXED_RATE_SCENARIOS.includes(s.id) && (!cfg.only || cfg.only.includes(s.id)));
  const capacities: Partial<Record<ScenarioId, Partial<Record<TargetId, number>>>> = {};
  for (const sc of chosen) {
    const targets = sc.targets.filter((t) => FIXED_RATE_TARGETS.includes(t.id));
    // A fresh process serves its first thousands of requests slower (V8 still compiling): its first load would set the rate low.
    for (const t of targets) await runAutocannon(t.spec, settings.conns, Math.max(WARMUP_S, cfg.warmup));
    const rps: Partial<Record<TargetId, number[]>> = {};
    for (let round = 0; round < CAPACITY_ROUNDS; round++) for (const t of rotate(targets, round)) (rps[t.id] ??= []).push((await runAutocannon(t.spec, settings.conns, settings.duration)).rps);
    for (const t of targets) {
      (capacities[sc.id] ??= {})[t.id] = median(rps[t.id]!);
      log(`saturation, ${sc.id}: ${TARGET_LABELS[t.id]} ${rps[t.id]!.map((x) => x.toFixed(0)).join(', ')} req/s`);
    }
  }
  const result = await runFixedRate(chosen, fleet.services, capacities, settings, log);
  await fleet.stop();
  const seconds = Math.round((Date.now() - started) / 1000);
  const md = [
    '# Benchmark: CPU per request at a fixed offered rate',
    '',
    `${machineLine(host)} Run time ${seconds} s. Reproduce: \`npm run bench -- fixed-rate\`. Saturation throughput for the rate: the median of ${CAPACITY_ROUNDS} loads of ${settings.duration} s per target at ${settings.conns} connections, after ${Math.max(WARMUP_S, cfg.warmup)} s of warm-up.`,
    '',
    fixedRateTable(result, chosen),
    '',
    fixedRateNote(result),
    '',
  ].join('\n');
  log(`written: ${writeResults('fixed-rate', md, { machine: host, config: cfg, capacities, fixedRate: result })}`);
});
