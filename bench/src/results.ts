import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { RESULTS_DIR } from './config.js';

/** The machine a run was on, at its start. */
export function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    node: process.version,
    loadavg: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

export type Machine = ReturnType<typeof machine>;

export const machineLine = (host: Machine) => `${host.date.slice(0, 10)}, ${host.nproc} cores (${host.cpu}), Node ${host.node}, load average at start ${host.loadavg}.`;

/** Writes bench/results/<name>.md and .json, prints the markdown; returns the paths written. */
export function writeResults(name: string, md: string, json: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${name}.md`), md);
  writeFileSync(join(RESULTS_DIR, `${name}.json`), JSON.stringify(json, null, 2) + '\n');
  process.stdout.write(`\n${md}\n`);
  return `bench/results/${name}.md and bench/results/${name}.json`;
}
