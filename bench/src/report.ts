import { fixedRateClause, type FixedRateResult } from './fixed-rate.js';
import type { LoadResult } from './load.js';
import { median } from './load.js';
import type { MicroResult } from './micro-result.js';
import { TARGET_LABELS, type Scenario, type ScenarioId, type TargetId } from './scenarios.js';

export type Kind = 'load' | 'ttfc';

export interface Measurement {
  readonly round: number;
  readonly scenario: ScenarioId;
  readonly conns: number;
  readonly target: TargetId;
  readonly kind: Kind;
  readonly load: LoadResult;
  /** Gateway process CPU (utime + stime from /proc) per completed request. */
  readonly cpuUsPerReq?: number;
  /** Peak RSS (VmHWM) of the gateway process during the measurement, MB. */
  readonly peakRssMB?: number;
  /** Resident memory (VmRSS) of the gateway process during the measurement, mean of samples, MB. */
  readonly rssMB?: number;
  /** Upstream calls per completed request, per model, counted by the simulator. */
  readonly primaryPerReq: number;
  readonly secondaryPerReq: number;
}

export interface Row {
  readonly scenario: ScenarioId;
  readonly conns: number;
  readonly target: TargetId;
  readonly kind: Kind;
  readonly rounds: number;
  readonly rps: number;
  /** Half the min-max range of req/s over the rounds, as % of the median. */
  readonly rpsSpreadPct: number;
  readonly p50: number;
  readonly p99: number;
  readonly addedP50?: number;
  readonly xDirect?: number;
  readonly xPortkey?: number;
  readonly cpuUsPerReq?: number;
  readonly peakRssMB?: number;
  readonly rssMB?: number;
  /** Paired by round with the same scenario's bare-proxy and embedded-gateway measurements: CPU per request, req/s and added p50 as ratios. */
  readonly vs: Partial<Record<'bare' | 'ours', { cpu?: number; rps?: number; added?: number }>>;
  readonly upstreamPerReq: number;
  readonly primaryPerReq: number;
  readonly ttfcP50?: number;
  readonly ttfcP99?: number;
  readonly addedTtfc?: number;
  /** Open-circuit rows: p50 minus the same gateway's single-target p50, paired by round. */
  readonly vsSingleP50?: number;
  readonly non2xx: number;
  readonly errors: number;
}

export interface TargetCheck {
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean;
  /** How far a missed target is from its goal, in the goal's unit. */
  readonly by?: string;
}

const TARGET_ORDER: TargetId[] = ['direct', 'ours', 'prod', 'portkey', 'nest', 'bare'];

export function aggregate(ms: readonly Measurement[], scenarios: readonly Scenario[]): Row[] {
  const rows: Row[] = [];
  const find = (round: number, scenario: ScenarioId, conns: number, target: TargetId, kind: Kind) =>
    ms.find((m) => m.round === round && m.scenario === scenario && m.conns === conns && m.target === target && m.kind === kind);
  const keys = new Map<string, Measurement[]>();
  for (const m of ms) {
    const k = `${m.scenario}|${m.kind}|${m.conns}|${m.target}`;
    keys.set(k, [...(keys.get(k) ?? []), m]);
  }
  for (const sc of scenarios) {
    for (const kind of ['load', 'ttfc'] as Kind[]) {
      const conns = [...new Set(ms.filter((m) => m.scenario === sc.id && m.kind === kind).map((m) => m.conns))].sort((a, b) => a - b);
      for (const c of conns) {
        for (const t of TARGET_ORDER) {
          const group = keys.get(`${sc.id}|${kind}|${c}|${t}`);
          if (!group || group.length === 0) continue;
          const per = <T>(f: (m: Measurement) => T | undefined) => group.map(f).filter((v): v is T => v !== undefined && (typeof v !== 'number' || Number.isFinite(v)));
          const rpsList = per((m) => m.load.rps);
          const rps = median(rpsList);
          // p50 minus the direct call's in the same round.
          const addedOf = (m: Measurement) => {
            const d = find(m.round, sc.directFrom, c, 'direct', kind);
            return d && m.target !== 'direct' ? m.load.p50 - d.load.p50 : undefined;
          };
          const added = per(addedOf);
          const addedTtfc = per((m) => {
            const d = find(m.round, sc.directFrom, c, 'direct', kind);
            return d && t !== 'direct' && m.load.ttfcP50 !== undefined && d.load.ttfcP50 !== undefined ? m.load.ttfcP50 - d.load.ttfcP50 : undefined;
          });
          const xDirect = per((m) => {
            const d = find(m.round, sc.directFrom, c, 'direct', kind);
            return d && t !== 'direct' ? m.load.rps / d.load.rps : undefined;
          });
          const xPortkey = per((m) => {
            const p = find(m.round, sc.portkeyFrom, c, 'portkey', kind);
            return p && t !== 'portkey' && t !== 'direct' ? m.load.rps / p.load.rps : undefined;
          });
          const vsSingle = per((m) => {
            if (sc.id !== 'circuit') return undefined;
            const s = find(m.round, 'single', c, t, kind);
            return s ? m.load.p50 - s.load.p50 : undefined;
          });
          const cpu = per((m) => m.cpuUsPerReq);
          const rss = per((m) => m.peakRssMB);
          const ratioTo = (other: TargetId) => {
            if (other === t) return undefined;
            const pair = (f: (m: Measurement) => number | undefined) => {
              const xs = per((m) => {
                const o = find(m.round, sc.id, c, other, kind);
                const a = f(m);
                const b = o && f(o);
                return a !== undefined && b !== undefined && b !== 0 ? a / b : undefined;
              });
              return xs.length ? median(xs) : undefined;
            };
            const r = { cpu: pair((m) => m.cpuUsPerReq), rps: pair((m) => m.load.rps), added: pair(addedOf) };
            return r.cpu === undefined && r.rps === undefined ? undefined : r;
          };
          const vs: Row['vs'] = {};
          for (const other of ['bare', 'ours'] as const) {
            const r = ratioTo(other);
            if (r) vs[other] = r;
          }
          rows.push({
            scenario: sc.id,
            conns: c,
            target: t,
            kind,
            rounds: group.length,
            rps,
            rpsSpreadPct: rpsList.length > 1 ? (50 * (Math.max(...rpsList) - Math.min(...rpsList))) / rps : 0,
            p50: median(per((m) => m.load.p50)),
            p99: median(per((m) => m.load.p99)),
            addedP50: added.length ? median(added) : undefined,
            xDirect: xDirect.length ? median(xDirect) : undefined,
            xPortkey: xPortkey.length ? median(xPortkey) : undefined,
            cpuUsPerReq: cpu.length ? median(cpu) : undefined,
            peakRssMB: rss.length ? Math.max(...rss) : undefined,
            rssMB: median(per((m) => m.rssMB)),
            vs,
            upstreamPerReq: median(per((m) => m.primaryPerReq + m.secondaryPerReq)),
            primaryPerReq: median(per((m) => m.primaryPerReq)),
            ttfcP50: kind === 'ttfc' ? median(per((m) => m.load.ttfcP50)) : undefined,
            ttfcP99: kind === 'ttfc' ? median(per((m) => m.load.ttfcP99)) : undefined,
            addedTtfc: addedTtfc.length ? median(addedTtfc) : undefined,
            vsSingleP50: vsSingle.length ? median(vsSingle) : undefined,
            non2xx: group.reduce((s, m) => s + m.load.non2xx, 0),
            errors: group.reduce((s, m) => s + m.load.errors, 0),
          });
        }
      }
    }
  }
  return rows;
}

const f = (v: number | undefined, digits: number, suffix = '') => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(digits)}${suffix}`);
const int = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : Math.round(v).toLocaleString('en-US'));
const signed = (v: number | undefined, digits: number) => (v === undefined || !Number.isFinite(v) ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`);

export function mainTable(rows: readonly Row[], scenarios: readonly Scenario[]): string {
  const title = (id: ScenarioId) => scenarios.find((s) => s.id === id)?.title ?? id;
  const out = [
    '| scenario | conns | gateway | req/s (± spread) | p50 ms | p99 ms | added p50 ms | × direct | × Portkey | CPU µs/req | peak RSS MB | upstream calls/req |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows.filter((r) => r.kind === 'load')) {
    out.push(
      `| ${title(r.scenario)} | ${r.conns} | ${TARGET_LABELS[r.target]}${r.scenario === 'fallback' && r.target === 'ours' ? ' †' : ''} | ${int(r.rps)} (±${f(r.rpsSpreadPct, 0)}%) | ${f(r.p50, 3)} | ${f(r.p99, 3)} | ${signed(r.addedP50, 3)} | ${f(r.xDirect, 2)} | ${f(r.xPortkey, 2)} | ${f(r.cpuUsPerReq, 0)} | ${f(r.peakRssMB, 0)} | ${f(r.upstreamPerReq, 2)}${r.non2xx + r.errors > 0 ? ` (${r.non2xx} non-2xx, ${r.errors} errors)` : ''} |`,
    );
    if (r.scenario === 'circuit' && r.target === 'ours') {
      out.push(`| ${title(r.scenario)} | ${r.conns} | ${TARGET_LABELS.portkey} | no circuit breaker: every request still calls the primary (see the fallback rows) | | | | | | | | |`);
    }
  }
  return out.join('\n');
}

export function ttfcTable(rows: readonly Row[]): string {
  const out = [
    '| conns | gateway | streams/s | TTFC p50 ms | TTFC p99 ms | added TTFC p50 ms | total p50 ms | total p99 ms |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows.filter((r) => r.kind === 'ttfc')) {
    out.push(`| ${r.conns} | ${TARGET_LABELS[r.target]} | ${int(r.rps)} | ${f(r.ttfcP50, 3)} | ${f(r.ttfcP99, 3)} | ${signed(r.addedTtfc, 3)} | ${f(r.p50, 3)} | ${f(r.p99, 3)} |`);
  }
  return out.join('\n');
}

export function microTable(m: MicroResult): string {
  return [
    '| call | direct to the fake transport µs | through LlmRouter µs | overhead µs/call |',
    '|---|---:|---:|---:|',
    `| single target, JSON | ${m.directUs.toFixed(2)} | ${m.routedUs.toFixed(2)} | ${m.overheadUs.toFixed(2)} |`,
    `| fallback (503, then the secondary) | ${m.fallbackDirectUs.toFixed(2)} | ${m.fallbackRoutedUs.toFixed(2)} | ${m.fallbackOverheadUs.toFixed(2)} |`,
    `| stream (9 chunks) | ${m.streamDirectUs.toFixed(2)} | ${m.streamRoutedUs.toFixed(2)} | ${m.streamOverheadUs.toFixed(2)} |`,
    `| primary's circuit open (skip, then the secondary) | ${m.directUs.toFixed(2)} | ${m.circuitRoutedUs.toFixed(2)} | ${(m.circuitRoutedUs - m.directUs).toFixed(2)} |`,
  ].join('\n');
}

/** `fixed`: the CPU per request at a fixed offered rate, given beside the CPU targets' saturation figures as information (the verdict stays on the saturation figure). */
export function checkTargets(rows: readonly Row[], micro: MicroResult | undefined, maxConns: number, fixed?: FixedRateResult): TargetCheck[] {
  const row = (scenario: ScenarioId, conns: number, target: TargetId, kind: Kind = 'load') =>
    rows.find((r) => r.scenario === scenario && r.conns === conns && r.target === target && r.kind === kind);
  const checks: TargetCheck[] = [];
  const missing = (goal: string) => checks.push({ goal, measured: 'not measured in this run', met: false });

  for (const sc of ['single', 'fallback'] as const) {
    const goal = `≥ 5× Portkey's throughput at ${maxConns} connections, ${sc === 'single' ? 'single target' : 'fallback'}`;
    const r = row(sc, maxConns, 'ours');
    if (!r?.xPortkey) missing(goal);
    else {
      const p = row(sc, maxConns, 'portkey');
      const cpu = p?.cpuUsPerReq && r.cpuUsPerReq ? `; CPU per request: Portkey's is ${(p.cpuUsPerReq / r.cpuUsPerReq).toFixed(2)}× ours` : '';
      checks.push({ goal, measured: `${r.xPortkey.toFixed(2)}× (${int(r.rps)} vs ${int(p?.rps)} req/s${cpu})`, met: r.xPortkey >= 5 });
    }
  }
  for (const sc of ['single', 'fallback', 'stream'] as const) {
    const limit = sc === 'single' ? 1.5 : 2;
    const goal = `CPU per request ≤ ${limit}× the bare node:http proxy's, ${sc}, ${maxConns} connections`;
    const o = row(sc, maxConns, 'ours');
    const ratio = o?.vs.bare?.cpu;
    if (!o?.cpuUsPerReq || ratio === undefined) missing(goal);
    else
      checks.push({
        goal,
        measured: `${ratio.toFixed(2)}× (${o.cpuUsPerReq.toFixed(0)} vs ${f(row(sc, maxConns, 'bare')?.cpuUsPerReq, 0)} µs${fixedRateClause(fixed, sc, 'ours', 'bare')})`,
        met: ratio <= limit,
        by: `${(ratio - limit).toFixed(2)}×`,
      });
  }
  for (const sc of ['single', 'stream'] as const) {
    const goal = `production configuration: CPU per request ≤ 1.3× the embedded gateway's, ${sc}, ${maxConns} connections`;
    const p = row(sc, maxConns, 'prod');
    const ratio = p?.vs.ours?.cpu;
    if (!p?.cpuUsPerReq || ratio === undefined) missing(goal);
    else
      checks.push({
        goal,
        measured: `${ratio.toFixed(2)}× (${p.cpuUsPerReq.toFixed(0)} vs ${f(row(sc, maxConns, 'ours')?.cpuUsPerReq, 0)} µs; ${f(p.vs.bare?.cpu, 2)}× the bare proxy's${fixedRateClause(fixed, sc, 'prod', 'ours')})`,
        met: ratio <= 1.3,
        by: `${(ratio - 1.3).toFixed(2)}×`,
      });
  }
  {
    const goal = "added p50 latency at 1 connection ≤ 1.3× the bare node:http proxy's, single target";
    const o = row('single', 1, 'ours');
    const b = row('single', 1, 'bare');
    const ratio = o?.vs.bare?.added;
    if (ratio === undefined || o?.addedP50 === undefined) missing(goal);
    else checks.push({ goal, measured: `${ratio.toFixed(2)}× (${(o.addedP50 * 1000).toFixed(0)} vs ${f((b?.addedP50 ?? NaN) * 1000, 0)} µs)`, met: ratio <= 1.3, by: `${(ratio - 1.3).toFixed(2)}×` });
  }
  for (const t of ['ours', 'prod'] as const) {
    const goal = `resident memory under load ≤ 120 MB, ${TARGET_LABELS[t]}, single target, ${maxConns} connections`;
    const r = row('single', maxConns, t);
    if (r?.rssMB === undefined || !Number.isFinite(r.rssMB)) missing(goal);
    else checks.push({ goal, measured: `${r.rssMB.toFixed(0)} MB (peak ${f(r.peakRssMB, 0)} MB; bare proxy ${f(row('single', maxConns, 'bare')?.rssMB, 0)} MB)`, met: r.rssMB <= 120, by: `${(r.rssMB - 120).toFixed(0)} MB` });
  }
  for (const sc of ['single', 'fallback'] as const) {
    const goal = `added p50 latency at 1 connection ≤ 1/5 of Portkey's, ${sc === 'single' ? 'single target' : 'fallback'}`;
    const o = row(sc, 1, 'ours');
    const p = row(sc, 1, 'portkey');
    if (o?.addedP50 === undefined || p?.addedP50 === undefined) missing(goal);
    else {
      const ratio = o.addedP50 / p.addedP50;
      checks.push({ goal, measured: `${ratio.toFixed(2)} of Portkey's (${(o.addedP50 * 1000).toFixed(0)} vs ${(p.addedP50 * 1000).toFixed(0)} µs)`, met: ratio <= 0.2 });
    }
  }
  {
    const goal = 'streaming: added time to first chunk < 1 ms at 1 connection (p50)';
    const o = row('stream', 1, 'ours', 'ttfc');
    if (o?.addedTtfc === undefined) missing(goal);
    else checks.push({ goal, measured: `${(o.addedTtfc * 1000).toFixed(0)} µs (Portkey: ${f((row('stream', 1, 'portkey', 'ttfc')?.addedTtfc ?? NaN) * 1000, 0)} µs)`, met: o.addedTtfc < 1 });
  }
  {
    const goal = 'open circuit: no upstream call to the primary';
    const cs = rows.filter((r) => r.scenario === 'circuit' && r.target === 'ours' && r.kind === 'load');
    if (cs.length === 0) missing(goal);
    else {
      const calls = Math.max(...cs.map((r) => r.primaryPerReq));
      checks.push({ goal, measured: `${calls.toFixed(3)} calls to the primary per request (Portkey, no breaker: ${f(row('fallback', 1, 'portkey')?.primaryPerReq, 2)})`, met: calls === 0 });
    }
  }
  {
    const goal = 'open circuit: no measurable latency over the single-target case (p50 at 1 connection, paired by round; within max(20 µs, 5 %))';
    const c = row('circuit', 1, 'ours');
    const s = row('single', 1, 'ours');
    if (c?.vsSingleP50 === undefined || !s) missing(goal);
    else {
      const d = c.vsSingleP50;
      const lib = micro?.circuitOverheadUs !== undefined ? `; in the library alone: ${micro.circuitOverheadUs >= 0 ? '+' : ''}${micro.circuitOverheadUs.toFixed(1)} µs per call` : '';
      checks.push({ goal, measured: `${d >= 0 ? '+' : ''}${(d * 1000).toFixed(0)} µs (${((100 * d) / s.p50).toFixed(1)} %${lib})`, met: d <= Math.max(0.02, 0.05 * s.p50) });
    }
  }
  {
    const goal = 'library overhead per routed call < 20 µs';
    if (!micro) missing(goal);
    else checks.push({ goal, measured: `${micro.overheadUs.toFixed(1)} µs (${micro.routedUs.toFixed(1)} routed − ${micro.directUs.toFixed(1)} direct)`, met: micro.overheadUs < 20 });
  }
  return checks;
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  return ['| target | measured | |', '|---|---|---|', ...checks.map((c) => `| ${c.goal} | ${c.measured} | ${c.met ? '**met**' : `**missed**${c.by ? ` by ${c.by}` : ''}`} |`)].join('\n');
}

/** The production configuration beside the embedded gateway and the bare proxy: ratios paired by round. */
export function productionTable(rows: readonly Row[]): string {
  const out = [
    '| scenario | conns | CPU µs/req | CPU × embedded | CPU × bare proxy | req/s | req/s × embedded | req/s × bare proxy | added p50 ms | added p50 × embedded | added p50 × bare proxy |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows.filter((x) => x.target === 'prod' && x.kind === 'load')) {
    out.push(
      `| ${r.scenario} | ${r.conns} | ${f(r.cpuUsPerReq, 0)} | ${f(r.vs.ours?.cpu, 2)} | ${f(r.vs.bare?.cpu, 2)} | ${int(r.rps)} | ${f(r.vs.ours?.rps, 2)} | ${f(r.vs.bare?.rps, 2)} | ${signed(r.addedP50, 3)} | ${f(r.vs.ours?.added, 2)} | ${f(r.vs.bare?.added, 2)} |`,
    );
  }
  return out.join('\n');
}

/** Resident memory per process: at rest after the warm-up, under load (single target at `conns`), and the peak over the run. */
export function memoryTable(rows: readonly Row[], idleMB: Partial<Record<TargetId, number>>, conns: number): string {
  const out = [
    `| process | idle RSS MB | RSS under load MB (single target, ${conns} connections, mean) | peak RSS MB (VmHWM, any measurement) | target ≤ 120 MB under load |`,
    '|---|---:|---:|---:|---|',
  ];
  for (const t of ['ours', 'prod', 'portkey', 'nest', 'bare'] as const) {
    const mine = rows.filter((r) => r.target === t && r.kind === 'load' && r.scenario !== 'fallback');
    if (mine.length === 0) continue;
    const load = mine.find((r) => r.scenario === 'single' && r.conns === conns)?.rssMB;
    const peaks = mine.map((r) => r.peakRssMB).filter((v): v is number => v !== undefined && Number.isFinite(v));
    const goal = t === 'ours' || t === 'prod' ? (load === undefined || !Number.isFinite(load) ? 'not measured' : load <= 120 ? '**met**' : `**missed** by ${(load - 120).toFixed(0)} MB`) : '';
    out.push(`| ${TARGET_LABELS[t]} | ${f(idleMB[t], 0)} | ${f(load, 0)} | ${peaks.length ? Math.max(...peaks).toFixed(0) : '–'} | ${goal} |`);
  }
  return out.join('\n');
}
