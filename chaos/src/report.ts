/** The suite's report: the summary table (printed and in latest.md) and each scenario's details. */
import type { ScenarioResult } from './scenario.js';

export interface RunInfo {
  date: string;
  commit: string;
  dirty: boolean;
  node: string;
  nproc: number;
  cpu: string;
  loadavg: string;
  seconds: number;
  config: { seed: number; fuzzRequests: number; soakRequests: number; soakConcurrency: number; soakFaultRate: number; killClients: number; shutdownGraceMs: number };
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function summaryTable(results: readonly ScenarioResult[]): string {
  const rows = results.flatMap((r) => r.targets.map((t) => `| ${cell(r.id)} | ${cell(t.target)} | ${cell(t.measured)} | ${t.met ? '**met**' : '**MISSED**'} |`));
  return ['| scenario | target | measured | |', '|---|---|---|---|', ...rows].join('\n');
}

export function markdownReport(run: RunInfo, results: readonly ScenarioResult[]): string {
  const targets = results.flatMap((r) => r.targets);
  const met = targets.filter((t) => t.met).length;
  const c = run.config;
  const lines = [
    '# Reliability suite: last run',
    '',
    `\`npm run chaos\` on ${run.date.slice(0, 16).replace('T', ' ')} UTC, commit ${run.commit}${run.dirty ? ' (with uncommitted changes)' : ''}: ${run.nproc} cores (${run.cpu}), Node ${run.node}, load average ${run.loadavg} at the start; ${run.seconds} s in all.`,
    `Seed ${c.seed}; fuzz ${c.fuzzRequests} requests; kill -9 with ${c.killClients} clients; SIGTERM grace ${c.shutdownGraceMs} ms; soak ${c.soakRequests} requests at concurrency ${c.soakConcurrency}, ${Math.round(c.soakFaultRate * 100)} % primary faults.`,
    '',
    `**${met} of ${targets.length} targets met.**`,
    '',
    summaryTable(results),
    '',
  ];
  for (const r of results) {
    lines.push(`## ${r.title} (\`${r.id}\`, ${(r.ms / 1000).toFixed(1)} s)`, '');
    if (r.error) lines.push('```', r.error.slice(0, 3000), '```', '');
    for (const t of r.targets) lines.push(`- ${t.met ? 'met' : '**MISSED**'}: ${t.target}: ${t.measured}`);
    // A note is a list item, an indented one a sub-item, and a table row (`|`) is written as it is.
    const note = (n: string, i: number) => (n.startsWith('|') ? `${i > 0 && !r.notes[i - 1]!.startsWith('|') ? '\n' : ''}${n}` : n.startsWith('  ') ? `  - ${n.trim()}` : `- ${n}`);
    if (r.notes.length > 0) lines.push('', ...r.notes.map(note));
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
