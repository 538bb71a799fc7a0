/**
 * CPU per request at one fixed offered rate, the same for every target of a scenario and below each one's capacity:
 * work compared, not contention. At saturation each process burns about a core whatever its throughput, so its CPU per
 * request follows the throughput that whatever saturates first on the machine leaves it (round nine, J).
 */
import type { BenchConfig } from './config.js';
import { median, rotate, runAutocannon, runPacedClient, type LoadResult } from './load.js';
import { cpuMicros, ioCalls, sleep, type Service } from './processes.js';
import { TARGET_LABELS, type Scenario, type ScenarioId, type TargetId } from './scenarios.js';

/** The llm-router gateways and the floors. Not Portkey: below its capacity (a fifth to a tenth of the others') the gateways' work at rest would weigh on their rows. */
export const FIXED_RATE_TARGETS: readonly TargetId[] = ['ours', 'prod', 'nest', 'bare'];
export const FIXED_RATE_SCENARIOS: readonly ScenarioId[] = ['single', 'stream'];
/** A row whose median served rate falls below this share of the offered one is marked short: its target was at capacity. */
export const SERVED_SHARE = 0.97;

export interface FixedRateSettings {
  /** Share of the slowest target's saturation throughput offered. */
  readonly fraction: number;
  readonly client: 'autocannon' | 'paced';
  readonly conns: number;
  /** Whole seconds: autocannon's rate is a quota per connection per second. */
  readonly duration: number;
  readonly rounds: number;
}

export const fixedRateSettings = (cfg: BenchConfig): FixedRateSettings => ({
  ...cfg.fixedRate,
  conns: Math.max(...cfg.connections),
  duration: Math.max(1, Math.round(cfg.duration)),
  rounds: cfg.rounds,
});

export interface OfferedRate {
  readonly scenario: ScenarioId;
  /** Requests per second offered to every target of the scenario. */
  readonly rate: number;
  /** The target it was taken from and that target's saturation throughput. */
  readonly slowest: TargetId;
  readonly capacity: number;
}

/**
 * `fraction` of the slowest measured target's saturation throughput (of FIXED_RATE_TARGETS only), rounded down to a
 * multiple of `conns`: autocannon gives each connection a whole share per second, and with a remainder some connections
 * would need part of one more second for their count, which reads as a rate not served.
 */
export function chooseRate(scenario: ScenarioId, capacities: Partial<Record<TargetId, number>>, fraction: number, conns: number): OfferedRate {
  const measured = FIXED_RATE_TARGETS.filter((t) => Number.isFinite(capacities[t]) && capacities[t]! > 0);
  if (measured.length === 0) throw new Error(`no saturation throughput measured for ${scenario}: no rate to offer`);
  const slowest = measured.reduce((a, b) => (capacities[b]! < capacities[a]! ? b : a));
  const capacity = capacities[slowest]!;
  const rate = conns * Math.max(1, Math.floor((capacity * fraction) / conns));
  // One request a connection a second is the least autocannon offers: a slower target would be offered its capacity or more.
  if (rate >= capacity) throw new Error(`${scenario}: ${conns} req/s (one a connection a second) is not below ${slowest}'s capacity of ${Math.round(capacity)} req/s`);
  return { scenario, rate, slowest, capacity };
}

export interface FixedRateMeasurement {
  readonly round: number;
  readonly scenario: ScenarioId;
  readonly target: TargetId;
  readonly offered: number;
  readonly load: LoadResult;
  readonly cpuUsPerReq: number;
  /** Read and write calls per request (/proc/<pid>/io syscr + syscw, every thread): a count, which contention moves far less than CPU time. */
  readonly ioCallsPerReq: number;
}

export interface FixedRateRow {
  readonly scenario: ScenarioId;
  readonly target: TargetId;
  readonly offered: number;
  /** Median over the rounds of the completed responses per second. */
  readonly served: number;
  readonly rounds: number;
  /** Rounds served below SERVED_SHARE of the offered rate. */
  readonly shortRounds: number;
  /** The median served rate below SERVED_SHARE of the offered one. */
  readonly short: boolean;
  readonly cpuUsPerReq: number;
  readonly ioCallsPerReq: number;
  /** CPU per request over the bare proxy's and the embedded gateway's, paired by round, median. */
  readonly xBare?: number;
  readonly xOurs?: number;
  readonly failed: number;
}

export function fixedRateRows(ms: readonly FixedRateMeasurement[]): FixedRateRow[] {
  const rows: FixedRateRow[] = [];
  for (const scenario of FIXED_RATE_SCENARIOS) {
    for (const target of FIXED_RATE_TARGETS) {
      const group = ms.filter((m) => m.scenario === scenario && m.target === target);
      if (group.length === 0) continue;
      const ratio = (other: TargetId) => {
        if (other === target) return undefined;
        const xs = group.map((m) => {
          const o = ms.find((x) => x.round === m.round && x.scenario === scenario && x.target === other);
          return o && o.cpuUsPerReq > 0 ? m.cpuUsPerReq / o.cpuUsPerReq : NaN;
        });
        const x = median(xs);
        return Number.isFinite(x) ? x : undefined;
      };
      const offered = group[0]!.offered;
      const served = median(group.map((m) => m.load.rps));
      rows.push({
        scenario,
        target,
        offered,
        served,
        rounds: group.length,
        shortRounds: group.filter((m) => m.load.rps < SERVED_SHARE * m.offered).length,
        short: !(served >= SERVED_SHARE * offered),
        cpuUsPerReq: median(group.map((m) => m.cpuUsPerReq)),
        ioCallsPerReq: median(group.map((m) => m.ioCallsPerReq)),
        xBare: ratio('bare'),
        xOurs: ratio('ours'),
        failed: group.reduce((s, m) => s + m.load.non2xx + m.load.errors, 0),
      });
    }
  }
  return rows;
}

export interface FixedRateResult {
  readonly settings: FixedRateSettings;
  readonly rates: readonly OfferedRate[];
  readonly measurements: readonly FixedRateMeasurement[];
  readonly rows: readonly FixedRateRow[];
}

/**
 * Offers each scenario's rate to each of its targets in turn (the order rotating per round), `settings.rounds` rounds
 * of `settings.duration` s; CPU from /proc/<pid>/stat before and after each load. `capacities`: each scenario's
 * saturation throughput per target, measured in this run.
 */
export async function runFixedRate(
  scenarios: readonly Scenario[],
  services: Record<string, Service>,
  capacities: Partial<Record<ScenarioId, Partial<Record<TargetId, number>>>>,
  settings: FixedRateSettings,
  log: (s: string) => void,
): Promise<FixedRateResult> {
  const plan = scenarios
    .filter((sc) => FIXED_RATE_SCENARIOS.includes(sc.id))
    .map((sc) => ({ sc, offered: chooseRate(sc.id, capacities[sc.id] ?? {}, settings.fraction, settings.conns), targets: sc.targets.filter((t) => FIXED_RATE_TARGETS.includes(t.id) && t.service && services[t.service]) }));
  for (const p of plan) log(`fixed rate, ${p.sc.id}: ${p.offered.rate} req/s (${settings.fraction} × ${TARGET_LABELS[p.offered.slowest]}'s ${Math.round(p.offered.capacity)})`);
  // One unmeasured load per target first: straight after the saturation loads a process still recompiles for this
  // rate's shape (V8's compiler threads at 27-88 µs per request in the first fixed-rate runs, gone by the third).
  // The rate offered to one target by the configured client (`onLast`: autocannon's last response).
  const offer = (t: (typeof plan)[number]['targets'][number], rate: number, onLast?: () => void) =>
    settings.client === 'paced' ? runPacedClient(t.spec, settings.conns, rate, settings.duration) : runAutocannon(t.spec, settings.conns, settings.duration, rate, onLast);
  for (const { sc, offered, targets } of plan) {
    for (const t of targets) {
      await offer(t, offered.rate);
      log(`  fixed rate warm-up ${sc.id.padEnd(6)} ${TARGET_LABELS[t.id]}`);
      await sleep(200);
    }
  }
  const measurements: FixedRateMeasurement[] = [];
  for (let round = 0; round < settings.rounds; round++) {
    for (const { sc, offered, targets } of plan) {
      for (const t of rotate(targets, round)) {
        const pid = services[t.service!]!.pid;
        const before = cpuMicros(pid);
        const ioBefore = ioCalls(pid);
        // Read at the last response: autocannon notices the end of its count only at its next once-a-second tick, and
        // the gateways' work at rest (not the floors': they have none) would weigh on their rows for up to that second.
        let atLast: { cpu: number; io: number } | undefined;
        const onLast = () => void (atLast = { cpu: cpuMicros(pid), io: ioCalls(pid) });
        const load = await offer(t, offered.rate, onLast);
        const end = atLast ?? { cpu: cpuMicros(pid), io: ioCalls(pid) };
        const cpuUsPerReq = load.requests > 0 ? (end.cpu - before) / load.requests : NaN;
        const ioCallsPerReq = load.requests > 0 ? (end.io - ioBefore) / load.requests : NaN;
        measurements.push({ round, scenario: sc.id, target: t.id, offered: offered.rate, load, cpuUsPerReq, ioCallsPerReq });
        log(`  fixed rate ${round + 1}/${settings.rounds} ${sc.id.padEnd(6)} ${TARGET_LABELS[t.id].padEnd(29)} offered ${offered.rate} served ${load.rps.toFixed(0)} req/s  cpu ${cpuUsPerReq.toFixed(0)} µs/req  ${ioCallsPerReq.toFixed(2)} read+write calls/req`);
        await sleep(200);
      }
    }
  }
  return { settings, rates: plan.map((p) => p.offered), measurements, rows: fixedRateRows(measurements) };
}

const f = (v: number | undefined, digits: number) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

export function fixedRateTable(r: FixedRateResult, scenarios: readonly Scenario[]): string {
  const title = (id: ScenarioId) => scenarios.find((s) => s.id === id)?.title ?? id;
  const out = ['| scenario | gateway | offered req/s | served req/s | CPU µs/req | × bare proxy | × embedded | read+write calls/req |', '|---|---|---:|---:|---:|---:|---:|---:|'];
  for (const row of r.rows) {
    const served = `${Math.round(row.served)}${row.short ? ' **short**' : ''}${row.shortRounds > 0 ? ` (below ${SERVED_SHARE * 100} % in ${row.shortRounds} of ${row.rounds} rounds)` : ''}${row.failed > 0 ? ` (${row.failed} failed)` : ''}`;
    out.push(`| ${title(row.scenario)} | ${TARGET_LABELS[row.target]} | ${row.offered} | ${served} | ${f(row.cpuUsPerReq, 0)} | ${f(row.xBare, 2)} | ${f(row.xOurs, 2)} | ${f(row.ioCallsPerReq, 2)} |`);
  }
  return out.join('\n');
}

export function fixedRateNote(r: FixedRateResult): string {
  const s = r.settings;
  const how =
    s.client === 'paced'
      ? "an open-loop node:http client (`BENCH_FIXED_RATE_CLIENT=paced`) sends the n-th request n / rate seconds after the start on a free one of the connections: requests arrive evenly, mostly one at a time, so nothing shares an event-loop pass and each pays its own reads, writes and Redis round trips."
      : "autocannon's `overallRate`, rate × duration requests: it gives each connection a whole share of each second (hence a multiple of the connections), sent back to back from the second's start, so each second opens with a burst at full concurrency and then rests (requests share event-loop passes as under saturation, while the other processes catch up in the rest). `BENCH_FIXED_RATE_CLIENT=paced` offers the same rate evenly instead.";
  return (
    `The main table's CPU per request is taken at saturation (autocannon as fast as it goes), where it moves with the throughput the machine's other processes leave each target (on two cores: the client, the simulator, Redis, PostgreSQL; in round nine each gateway burned about a core whatever its throughput). ` +
    `Here every target of a scenario is offered the same rate, ${s.fraction} × the slowest one's saturation throughput in this run rounded down to a multiple of the connections (${r.rates.map((x) => `${x.scenario}: ${x.rate} req/s, from ${TARGET_LABELS[x.slowest]}'s ${Math.round(x.capacity)}`).join('; ')}), ` +
    `at ${s.conns} connections, ${s.rounds} rounds × ${s.duration} s after one unmeasured load of each target at the same rate (after the saturation loads a process recompiles for a while), the targets in rotating order; medians over the rounds, ratios paired by round. ` +
    `The rate is offered by ${how} ` +
    `*read+write calls/req*: syscr + syscw from /proc/<pid>/io over the same loads, every thread (epoll, sendmsg and recvmsg not counted): a count, which other work on the machine moves far less than CPU time. ` +
    `*served*: the completed responses over the duration, or over the time to the last response when longer; **short** when its median is below ${SERVED_SHARE * 100} % of the offered rate (the target was at capacity, and its CPU per request is a saturation figure). ` +
    `Portkey is left out: its capacity is a fifth (JSON) to a tenth (SSE) of the others', and at a rate below it the gateways' own work at rest would weigh on their rows (bench/README.md). The targets' verdicts stay on the saturation figures.`
  );
}

/** The fixed-rate CPU ratio of `target` over `vs` in `scenario`, as a clause for a target's measured text ('' when not measured). */
export function fixedRateClause(r: FixedRateResult | undefined, scenario: ScenarioId, target: TargetId, vs: 'bare' | 'ours'): string {
  const row = r?.rows.find((x) => x.scenario === scenario && x.target === target);
  const x = vs === 'bare' ? row?.xBare : row?.xOurs;
  if (!row || x === undefined) return '';
  return `; at a fixed ${row.offered} req/s: ${x.toFixed(2)}×, ${row.cpuUsPerReq.toFixed(0)} µs${row.short ? ', short of the rate' : ''}`;
}
