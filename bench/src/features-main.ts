/**
 * `npm run bench -- features`: the cost of each feature alone (the default
 * run's section, without the rest): the simulator, then pairs of fresh
 * gateways in the production configuration with and without each feature.
 * Writes bench/results/features.md.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { benchConfig, RUN_DIR } from './config.js';
import { featureCostsNote, featureCostsRun, featureCostsSettings, featureCostsTable, runFeatureCosts } from './feature-costs.js';
import { startSimulator } from './fleet.js';
import { writePolicies } from './our-gateway.js';
import { stopAll, stopChildrenOnExit, stopService } from './processes.js';
import { productionServices, type ProductionServices } from './production.js';
import { machine, machineLine, writeResults } from './results.js';

const log = (s: string) => process.stderr.write(`[features] ${s}\n`);
stopChildrenOnExit(log, 'this benchmark');
let production: ProductionServices | undefined;

async function main(): Promise<void> {
  const cfg = benchConfig();
  const started = Date.now();
  rmSync(RUN_DIR, { recursive: true, force: true });
  mkdirSync(RUN_DIR, { recursive: true });
  const host = machine();
  production = await productionServices(log);
  const sim = await startSimulator();
  const { policy } = writePolicies(sim.url);
  const settings = featureCostsSettings(cfg);
  log(`cost of each feature: ${settings.pairs} pairs × ${settings.rounds} rounds × ${settings.duration} s per feature, ${settings.conns} connections`);
  const costs = await runFeatureCosts(featureCostsRun(cfg, policy, production), log);
  await stopService(sim);
  await production.cleanup();
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
}

main().catch(async (err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await stopAll();
  await production?.cleanup().catch(() => undefined);
  process.exit(1);
});
