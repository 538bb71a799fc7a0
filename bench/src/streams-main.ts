/**
 * `npm run bench -- streams`: the open-stream run's long form. 5,000 slow
 * streams at once (a chunk every 200 ms for 20 s) through the llm-router
 * gateway (embedded, and in the production configuration), the bare proxy
 * and Portkey, one target after the other. Writes bench/results/streams.md.
 */
import { benchConfig, STREAMS_LONG } from './config.js';
import { runBenchEntry } from './entry.js';
import { startFleet } from './fleet.js';
import { checkFileLimit, runOpenStreams, streamsFailures, streamsNote, streamsChecks, streamsTable, streamTargets } from './open-streams.js';
import { targetsTable } from './report.js';
import { machineLine, writeResults } from './results.js';

const log = (s: string) => process.stderr.write(`[streams] ${s}\n`);

runBenchEntry(log, async ({ host, startProduction }) => {
  const cfg = benchConfig(STREAMS_LONG);
  checkFileLimit(cfg.streams.count);
  const production = cfg.production ? await startProduction() : undefined;
  const fleet = await startFleet(log, { fallback: false, production });
  log(`${cfg.streams.count} streams at once, a chunk every ${cfg.streams.chunkMs} ms for ${cfg.streams.seconds} s, through each target in turn`);
  const results = await runOpenStreams(fleet.sim.url, streamTargets(fleet, cfg.streams.targets), cfg.streams, log);
  await fleet.stop();
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
});
