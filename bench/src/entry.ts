/**
 * What every benchmark entry (`npm run bench -- <name>`) does around its own run: an empty run folder, the machine
 * read at the start, the production configuration's Redis and PostgreSQL when asked for (removed again at the end,
 * on a failure and on SIGINT or SIGTERM too), and on failure the error logged, every child process stopped and exit
 * code 1.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { RUN_DIR } from './config.js';
import { stopAll, stopChildrenOnExit } from './processes.js';
import { productionServices, type ProductionServices } from './production.js';
import { machine, type Machine } from './results.js';

export interface BenchEntry {
  /** The machine as the run found it (read after the run folder was reset). */
  readonly host: Machine;
  /** The production configuration's Redis and PostgreSQL (checked once); cleaned up when the entry ends, whether it succeeds or fails. */
  startProduction(): Promise<ProductionServices>;
}

export function runBenchEntry(log: (s: string) => void, run: (entry: BenchEntry) => Promise<void>): void {
  let production: Promise<ProductionServices> | undefined;
  const cleanup = async () => (production ? (await production.catch(() => undefined))?.cleanup() : undefined);
  stopChildrenOnExit(log, 'this benchmark', cleanup);
  const main = async () => {
    // Per-run scratch: policies, logs, the gateways' store files. Each run starts empty.
    rmSync(RUN_DIR, { recursive: true, force: true });
    mkdirSync(RUN_DIR, { recursive: true });
    await run({ host: machine(), startProduction: () => (production ??= productionServices(log)) });
    await cleanup();
  };
  main().catch(async (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await stopAll();
    await cleanup().catch(() => undefined);
    process.exit(1);
  });
}
