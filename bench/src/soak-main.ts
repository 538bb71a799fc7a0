/**
 * `npm run bench -- soak`: the soak alone (soak.ts). 60 s by default; the
 * documented run is BENCH_SOAK_SECONDS=1800. Writes bench/results/soak.md.
 */
import { benchConfig } from './config.js';
import { runBenchEntry } from './entry.js';
import { startSimulator } from './fleet.js';
import { writePolicies } from './our-gateway.js';
import { stopService } from './processes.js';
import { targetsTable } from './report.js';
import { machineLine, writeResults } from './results.js';
import { runSoak, soakChecks, soakMarkdown } from './soak.js';

const log = (s: string) => process.stderr.write(`[soak] ${s}\n`);

runBenchEntry(log, async ({ host, startProduction }) => {
  const cfg = benchConfig();
  const production = cfg.production ? await startProduction() : undefined;
  const sim = await startSimulator();
  const { policy } = writePolicies(sim.url);
  const soak = await runSoak({ simUrl: sim.url, policy, shared: production?.env('soak'), seconds: cfg.soak.seconds, sampleS: cfg.soak.sampleS, conns: Math.max(...cfg.connections) }, log);
  await stopService(sim);
  const md = [
    `# Benchmark: soak, ${cfg.soak.seconds} s`,
    '',
    `${machineLine(host)} Reproduce: \`BENCH_SOAK_SECONDS=${cfg.soak.seconds} npm run bench -- soak\` (the documented run: 1800).`,
    '',
    soakMarkdown(soak),
    '',
    targetsTable(soakChecks(soak)),
    '',
  ].join('\n');
  log(`written: ${writeResults('soak', md, { machine: host, config: cfg, soak, targets: soakChecks(soak) })}`);
});
