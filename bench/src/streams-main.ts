/**
 * `npm run bench -- streams`: the open-stream run's long form. 5,000 slow
 * streams at once (a chunk every 200 ms for 20 s) through the llm-router
 * gateway (embedded, and in the production configuration), the bare proxy
 * and Portkey, one target after the other. Writes bench/results/streams.md.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { benchConfig, RUN_DIR, STREAMS_LONG } from './config.js';
import { startFleet } from './fleet.js';
import { checkFileLimit, runOpenStreams, streamsFailures, streamsNote, streamsChecks, streamsTable, streamTargets } from './open-streams.js';
import { stopAll, stopChildrenOnExit } from './processes.js';
import { productionServices, type ProductionServices } from './production.js';
import { targetsTable } from './report.js';
import { machine, machineLine, writeResults } from './results.js';

const log = (s: string) => process.stderr.write(`[streams] ${s}\n`);
stopChildrenOnExit(log, 'this benchmark');
let production: ProductionServices | undefined;

async function main(): Promise<void> {
  const cfg = benchConfig(STREAMS_LONG);
  rmSync(RUN_DIR, { recursive: true, force: true });
  mkdirSync(RUN_DIR, { recursive: true });
  const host = machine();
  checkFileLimit(cfg.streams.count);
  production = cfg.production ? await productionServices(log) : undefined;
  const fleet = await startFleet(log, { fallback: false, production });
  log(`${cfg.streams.count} streams at once, a chunk every ${cfg.streams.chunkMs} ms for ${cfg.streams.seconds} s, through each target in turn`);
  const results = await runOpenStreams(fleet.sim.url, streamTargets(fleet, cfg.streams.targets), cfg.streams, log);
  await fleet.stop();
  await production?.cleanup();
  const checks = streamsChecks(results, ['ours', 'prod']);
  const md = [
    `# Benchmark: ${cfg.streams.count.toLocaleString('en-US')} open streams`,
    '',
    `${machineLine(host)} Reproduce: \`npm run bench -- streams\`.`,
    '',
    streamsTable(results),
    '',
    ...streamsFailures(results),
    streamsNote(cfg.streams),
    '',
    targetsTable(checks),
    '',
  ].join('\n');
  log(`written: ${writeResults('streams', md, { machine: host, config: cfg, results, targets: checks })}`);
}

main().catch(async (err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await stopAll();
  await production?.cleanup().catch(() => undefined);
  process.exit(1);
});
