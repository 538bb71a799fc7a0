/**
 * `npm run chaos`: the reliability suite of issue #13, against real processes
 * (the simulator, the gateway, a redis-server of its own, PostgreSQL), each
 * scenario judged against the issue's targets. Writes chaos/results/latest.md
 * and latest.json, prints the summary, exits non-zero when a target is missed.
 * See chaos/README.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { stopAll, stopChildrenOnExit } from '../../bench/src/processes.js';
import { chaosConfig, RESULTS_DIR, ROOT, RUN_DIR } from './config.js';
import { markdownReport, summaryTable } from './report.js';
import type { Scenario, ScenarioResult } from './scenario.js';
import { fuzzScenario } from './scenarios/fuzz.js';
import { kill9Scenario } from './scenarios/kill9.js';
import { poisonedScenario } from './scenarios/poisoned.js';
import { redisRestartScenario } from './scenarios/redis-restart.js';
import { sigtermScenario } from './scenarios/sigterm.js';
import { soakScenario } from './scenarios/soak.js';
import { startSimulator } from './stack.js';

const log = (s: string) => process.stderr.write(`[chaos] ${s}\n`);

stopChildrenOnExit(log, 'this suite');

const SCENARIOS: readonly Scenario[] = [
  fuzzScenario,
  kill9Scenario('sqlite'),
  kill9Scenario('postgres'),
  redisRestartScenario('sqlite'),
  redisRestartScenario('postgres'),
  sigtermScenario,
  poisonedScenario,
  soakScenario,
];

function git(...args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

const cfg = chaosConfig();
const chosen = SCENARIOS.filter((s) => !cfg.only || cfg.only.some((o) => s.id.startsWith(o)));
if (chosen.length === 0) {
  log(`CHAOS_ONLY matches no scenario: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  process.exit(2);
}
const started = Date.now();
const run = {
  date: new Date().toISOString(),
  commit: git('rev-parse', '--short', 'HEAD'),
  dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
  node: process.version,
  nproc: availableParallelism(),
  cpu: /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown',
  loadavg: loadavg().map((l) => l.toFixed(2)).join(' '),
  config: cfg,
  seconds: 0,
};

rmSync(RUN_DIR, { recursive: true, force: true });
mkdirSync(RUN_DIR, { recursive: true });
mkdirSync(RESULTS_DIR, { recursive: true });
log(`commit ${run.commit}${run.dirty ? ' (with uncommitted changes)' : ''}; scenarios: ${chosen.map((s) => s.id).join(', ')}; logs in ${RUN_DIR}`);

const sim = await startSimulator(RUN_DIR);
const results: ScenarioResult[] = [];
for (const s of chosen) {
  const result: ScenarioResult = { id: s.id, title: s.title, targets: [], figures: {}, notes: [], ms: 0 };
  const t0 = Date.now();
  log(`${s.id}: ${s.title}`);
  try {
    await s.run({ cfg, sim, logDir: RUN_DIR, log }, result);
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log(`${s.id}: failed to run: ${result.error}`);
    result.targets.push({ target: 'the scenario runs to its end', measured: result.error.split('\n')[0]!.slice(0, 300), met: false });
  }
  result.ms = Date.now() - t0;
  for (const t of result.targets) log(`${s.id}: ${t.met ? 'met   ' : 'MISSED'} ${t.target}: ${t.measured}`);
  results.push(result);
}
await stopAll();
run.seconds = Math.round((Date.now() - started) / 1000);

const partial = cfg.only !== undefined;
const base = partial ? 'partial' : 'latest';
writeFileSync(join(RESULTS_DIR, `${base}.json`), `${JSON.stringify({ run, results }, null, 2)}\n`);
writeFileSync(join(RESULTS_DIR, `${base}.md`), markdownReport(run, results));
process.stdout.write(`\n${summaryTable(results)}\n`);
const targets = results.flatMap((r) => r.targets);
const missed = targets.filter((t) => !t.met).length;
process.stdout.write(`\n${targets.length - missed} of ${targets.length} targets met in ${run.seconds} s; report: ${join(RESULTS_DIR, `${base}.md`)}\n`);
process.exit(missed === 0 ? 0 : 1);
