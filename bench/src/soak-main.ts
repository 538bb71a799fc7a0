/**
 * `npm run bench -- soak`: the soak alone (soak.ts). 60 s by default; the
 * documented run is BENCH_SOAK_SECONDS=1800. Writes bench/results/soak.md.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { benchConfig, RUN_DIR } from './config.js';
import { startSimulator } from './fleet.js';
import { writePolicies } from './our-gateway.js';
import { stopAll, stopChildrenOnExit, stopService } from './processes.js';
import { productionServices, type ProductionServices } from './production.js';
import { targetsTable } from './report.js';
import { machine, machineLine, writeResults } from './results.js';
import { runSoak, soakChecks, soakMarkdown } from './soak.js';

const log = (s: string) => process.stderr.write(`[soak] ${s}\n`);
stopChildrenOnExit(log, 'this benchmark');
let production: ProductionServices | undefined;

async function main(): Promise<void> {
  const cfg = benchConfig();
  rmSync(RUN_DIR, { recursive: true, force: true });
  mkdirSync(RUN_DIR, { recursive: true });
  const host = machine();
  production = cfg.production ? await productionServices(log) : undefined;
  const sim = await startSimulator();
  const { policy } = writePolicies(sim.url);
  const soak = await runSoak({ simUrl: sim.url, policy, shared: production?.env('soak'), seconds: cfg.soak.seconds, sampleS: cfg.soak.sampleS, conns: Math.max(...cfg.connections) }, log);
  await stopService(sim);
  await production?.cleanup();
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
}

main().catch(async (err: unknown) => {
  log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await stopAll();
  await production?.cleanup().catch(() => undefined);
  process.exit(1);
});
