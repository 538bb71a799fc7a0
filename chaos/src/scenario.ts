/** What a scenario is given, and what it reports: its figures and each target of issue #13, met or missed. */
import type { Service } from '../../bench/src/processes.js';
import type { ChaosConfig } from './config.js';

export interface Target {
  /** The target, as the issue states it. */
  target: string;
  /** What this run measured. */
  measured: string;
  met: boolean;
}

export interface ScenarioResult {
  id: string;
  title: string;
  targets: Target[];
  /** Every figure, for latest.json and the details in latest.md. */
  figures: Record<string, unknown>;
  /** Lines for the report: breakdowns, offenders, caveats. */
  notes: string[];
  ms: number;
  /** The scenario could not run to its end (its targets count as missed). */
  error?: string;
}

export interface Context {
  cfg: ChaosConfig;
  sim: Service;
  logDir: string;
  log: (line: string) => void;
}

export interface Scenario {
  id: string;
  title: string;
  run(ctx: Context, result: ScenarioResult): Promise<void>;
}

export { sleep } from '../../bench/src/processes.js';

export const pct = (n: number, of: number) => (of === 0 ? '–' : `${((100 * n) / of).toFixed(2)} %`);
export const usd = (micros: number) => `$${(micros / 1e6).toFixed(6)}`;
export const fmt = (n: number) => n.toLocaleString('en-US');
