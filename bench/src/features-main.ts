/**
 * `npm run bench -- features`: the cost of each feature alone (the default
 * run's section, without the rest): the simulator, then pairs of fresh
 * gateways in the production configuration with and without each feature.
 * Writes bench/results/features.md.
 */
import { benchConfig } from './config.js';
import { runBenchEntry } from './entry.js';
import { featureCostsNote, featureCostsRun, featureCostsSettings, featureCostsTable, runFeatureCosts } from './feature-costs.js';
import { startSimulator } from './fleet.js';
import { writePolicies } from './our-gateway.js';
import { stopService } from './processes.js';
import { machineLine, writeResults } from './results.js';

const log = (s: string) => process.stderr.write(`[features] ${s}\n`);

runBenchEntry(log, async ({ host, startProduction }) => {
  const cfg = benchConfig();
  const started = Date.now();
  const production = await startProduction();
  const sim = await startSimulator();
  const { policy } = writePolicies(sim.url);
  const settings = featureCostsSettings(cfg);
  log(`cost of each feature: ${settings.pairs} pairs × ${settings.rounds} rounds × ${settings.duration} s per feature, ${settings.conns} connections`);
  const costs = await runFeatureCosts(featureCostsRun(cfg, policy, production), log);
  await stopService(sim);
  const seconds = Math.round((Date.now() - started) / 1000);
  const md = [
    '# Benchmark: the cost of each feature',
    '',
    `${machineLine(host)} Run time ${seconds} s. Reproduce: \`npm run bench -- features\`.`,
    '',
    featureCostsTable(costs),
    '',
    featureCostsNote(settings),
    '',
  ].join('\n');
  log(`written: ${writeResults('features', md, { machine: host, config: cfg, featureCosts: costs })}`);
});
