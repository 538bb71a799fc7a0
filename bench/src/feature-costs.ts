/**
 * What each feature costs per request: the production configuration's gateway
 * against the same with one feature off (keys, budgets, request log, records,
 * metrics, Redis, PostgreSQL), on the single-target scenario.
 *
 * Two fresh processes of one build differ by more than some features cost (a
 * process's JIT settles its own way), so a variant is never compared with a
 * process of another age: each pair is a fresh full-configuration process and
 * a fresh variant, started together and warmed up alike, measured back to
 * back (the order alternating), and there are several pairs per variant. The
 * cost is the median over the pairs, with every pair's beside it; a first row
 * with nothing switched off shows how far two identical processes differ.
 * Beside the CPU time, counts that other work on the machine moves far less:
 * read and write calls per request and Redis commands per request.
 */
import type { BenchConfig } from './config.js';
import { median, runAutocannon, type RequestSpec } from './load.js';
import { credentials, writePolicyWithoutBudgets } from './our-gateway.js';
import { countRedisCommands } from './redis-commands.js';
import { cpuMicros, ioCalls, sleep, stopService, type Service } from './processes.js';
import { startGateway } from './fleet.js';
import { BENCH_REDIS_URL, type ProductionServices } from './production.js';
import { body } from './scenarios.js';

export interface FeatureVariant {
  readonly id: string;
  /** What is off, as the table says it. */
  readonly label: string;
  /** How it is switched off. */
  readonly how: string;
}

export const FEATURE_VARIANTS: readonly FeatureVariant[] = [
  { id: 'none', label: 'nothing (two full processes: the noise)', how: 'the same configuration in both' },
  { id: 'keys', label: 'API keys', how: 'LLM_AUTH=disabled (tenant in x-tenant-id)' },
  { id: 'budgets', label: 'tenant budget', how: 'the policy without `budgets`' },
  { id: 'request-log', label: 'request log', how: 'LLM_REQUEST_LOG=false' },
  { id: 'records', label: 'routing records (journal and store)', how: 'LLM_RECORDS=false' },
  { id: 'metrics', label: 'Prometheus series', how: 'LLM_METRICS=false' },
  { id: 'redis', label: 'Redis (in-process ledger, circuits, file journal)', how: 'no LLM_REDIS_URL' },
  { id: 'postgres', label: 'PostgreSQL (SQLite file instead)', how: 'no DATABASE_URL' },
];

/** One load on one process. */
export interface ProcessLoad {
  readonly cpuUs: number;
  readonly rps: number;
  /** read + write calls per request (/proc/<pid>/io). */
  readonly ioCalls: number;
  readonly errors: number;
}

/** One pair of fresh processes: its rounds, the full configuration's and the variant's loads side by side. */
export interface PairLoads {
  readonly full: readonly ProcessLoad[];
  readonly off: readonly ProcessLoad[];
}

export type FeatureVerdict = 'costs' | 'within noise' | 'cheaper with it on' | 'the yardstick';

export interface FeatureCost {
  readonly id: string;
  readonly label: string;
  readonly how: string;
  readonly pairs: number;
  readonly rounds: number;
  /** Medians over every round of every pair, CPU µs per request. */
  readonly fullCpuUs: number;
  readonly offCpuUs: number;
  /** What the feature costs, full − off, µs per request: the median of the pairs' costs (a pair's: the median of its rounds' differences). */
  readonly costUs: number;
  /** Each pair's cost, in the order run; the lowest and the highest. */
  readonly pairCostsUs: readonly number[];
  readonly costMinUs: number;
  readonly costMaxUs: number;
  /** See featureVerdict. */
  readonly verdict: FeatureVerdict;
  /** Median of the per-round ratios off / full. */
  readonly ratio: number;
  readonly fullRps: number;
  readonly offRps: number;
  /** Medians, read + write calls per request. */
  readonly fullIoCalls: number;
  readonly offIoCalls: number;
  /** Redis commands per request of the variant, counted on the first pair (MONITOR); the control's is the full configuration's. */
  readonly offRedisCommands?: number;
  readonly errors: number;
}

/** The control: both processes of a pair in the full configuration. */
const CONTROL = 'none';

/**
 * 'within noise' when the pairs' costs do not all lie on one side of 0, or
 * when the cost is no larger than two identical processes differed in this
 * run (`noiseUs`: the control's largest pair difference, either way; NaN when
 * the control was not run). Otherwise the sign says which way.
 */
export function featureVerdict(c: Pick<FeatureCost, 'id' | 'costUs' | 'costMinUs' | 'costMaxUs'>, noiseUs: number): FeatureVerdict {
  if (c.id === CONTROL) return 'the yardstick';
  if (c.costMinUs <= 0 && c.costMaxUs >= 0) return 'within noise';
  if (Math.abs(c.costUs) <= noiseUs) return 'within noise';
  return c.costUs > 0 ? 'costs' : 'cheaper with it on';
}

/** The control's largest pair difference, either way (NaN without the control). */
export function noiseOf(costs: readonly Pick<FeatureCost, 'id' | 'pairCostsUs'>[]): number {
  const control = costs.find((c) => c.id === CONTROL);
  return control ? Math.max(...control.pairCostsUs.map(Math.abs)) : NaN;
}

/** The figures of one variant from its pairs' loads (the verdict comes once the control is known). */
export function summarizeFeature(v: FeatureVariant, pairs: readonly PairLoads[]): Omit<FeatureCost, 'offRedisCommands' | 'verdict'> {
  if (pairs.length === 0 || pairs.some((p) => p.full.length === 0 || p.full.length !== p.off.length)) {
    throw new Error(`feature "${v.id}": every pair needs as many loads of the full configuration as of the variant, at least one`);
  }
  // A pair's rounds by their median: one round a young process spent compiling does not decide its pair.
  const pairCosts = pairs.map((p) => median(p.full.map((f, i) => f.cpuUs - p.off[i]!.cpuUs)));
  const fulls = pairs.flatMap((p) => p.full);
  const offs = pairs.flatMap((p) => p.off);
  const costMinUs = Math.min(...pairCosts);
  const costMaxUs = Math.max(...pairCosts);
  return {
    id: v.id,
    label: v.label,
    how: v.how,
    pairs: pairs.length,
    rounds: pairs[0]!.full.length,
    fullCpuUs: median(fulls.map((m) => m.cpuUs)),
    offCpuUs: median(offs.map((m) => m.cpuUs)),
    costUs: median(pairCosts),
    pairCostsUs: pairCosts,
    costMinUs,
    costMaxUs,
    ratio: median(offs.map((o, i) => o.cpuUs / fulls[i]!.cpuUs)),
    fullRps: median(fulls.map((m) => m.rps)),
    offRps: median(offs.map((m) => m.rps)),
    fullIoCalls: median(fulls.map((m) => m.ioCalls)),
    offIoCalls: median(offs.map((m) => m.ioCalls)),
    errors: [...fulls, ...offs].reduce((n, m) => n + m.errors, 0),
  };
}

/** How the section runs: connections, pairs of fresh processes per variant, rounds per pair, seconds per load, requests of warm-up per process. */
export interface FeatureCostsSettings {
  readonly conns: number;
  /** Only these variants (ids), for development. */
  readonly only?: readonly string[];
  readonly pairs: number;
  readonly rounds: number;
  readonly duration: number;
  readonly warmRequests: number;
}

export interface FeatureCostsRun extends FeatureCostsSettings {
  readonly policy: string;
  /** The shared services' env for one more gateway (a fresh Redis prefix and schema). */
  readonly sharedEnv: (name: string) => Record<string, string>;
  /** The Redis the gateways use: its commands are counted there. */
  readonly redisUrl: string;
  readonly spec: (url: string, headers: Record<string, string>) => RequestSpec;
}

export const featureCostsSettings = (cfg: BenchConfig): FeatureCostsSettings => ({ conns: Math.max(...cfg.connections), ...cfg.features });

/** The section on the bench's policy and shared services: the single-target scenario's request. */
export const featureCostsRun = (cfg: BenchConfig, policy: string, production: ProductionServices): FeatureCostsRun => ({
  ...featureCostsSettings(cfg),
  policy,
  sharedEnv: (name) => production.env(name),
  redisUrl: BENCH_REDIS_URL,
  spec: (url, headers) => ({ url: `${url}/v1/chat/completions`, headers: { ...headers, 'x-traffic-class': 'bench-single' }, body: body('auto', false) }),
});

/** Seconds of load while Redis commands are counted (MONITOR slows Redis: never during a timed load). */
const REDIS_COUNT_S = 0.75;

/** After a load, the process's own deferred work (settles, the journal's and the store's flushes) still counts: it is read this much later. */
const TAIL_MS = 150;

async function load(pid: number, spec: RequestSpec, conns: number, duration: number): Promise<ProcessLoad> {
  const cpu = cpuMicros(pid);
  const calls = ioCalls(pid);
  const r = await runAutocannon(spec, conns, duration);
  await sleep(TAIL_MS);
  const n = Math.max(1, r.requests);
  return { cpuUs: (cpuMicros(pid) - cpu) / n, rps: r.rps, ioCalls: (ioCalls(pid) - calls) / n, errors: r.errors + r.non2xx };
}

function startVariant(v: FeatureVariant, run: FeatureCostsRun, name: string): Promise<Service> {
  const shared = run.sharedEnv(name);
  switch (v.id) {
    case 'none':
      return startGateway(name, run.policy, shared);
    case 'keys':
      return startGateway(name, run.policy, shared, { LLM_AUTH: 'disabled' });
    case 'budgets':
      return startGateway(name, writePolicyWithoutBudgets(run.policy), shared);
    case 'request-log':
      return startGateway(name, run.policy, shared, { LLM_REQUEST_LOG: 'false' });
    case 'records':
      return startGateway(name, run.policy, shared, { LLM_RECORDS: 'false' });
    case 'metrics':
      return startGateway(name, run.policy, shared, { LLM_METRICS: 'false' });
    case 'redis': {
      const { LLM_REDIS_URL: _u, LLM_REDIS_PREFIX: _p, ...rest } = shared;
      return startGateway(name, run.policy, rest);
    }
    case 'postgres': {
      const { DATABASE_URL: _d, LLM_PG_SCHEMA: _s, ...rest } = shared;
      return startGateway(name, run.policy, rest);
    }
    default:
      throw new Error(`unknown feature variant ${v.id}`);
  }
}

interface Side {
  readonly gw: Service;
  readonly spec: RequestSpec;
}

/** Loads of this length until a process has served its warm-up requests, at most WARM_MAX_S. */
const WARM_CHUNK_S = 0.5;
const WARM_MAX_S = 20;

/**
 * A fresh process's CPU per request falls for its first few thousand requests
 * (V8 compiling the hot paths: 1,570 µs over its first 570 requests, 330 from
 * about 6,000 on, measured here at 32 connections): it is warmed up by requests
 * served, not by seconds, which a slower or busier machine would fill with fewer.
 */
async function warmUp(s: Side, run: FeatureCostsRun): Promise<void> {
  let served = 0;
  for (let t = 0; served < run.warmRequests && t < WARM_MAX_S; t += WARM_CHUNK_S) served += (await runAutocannon(s.spec, run.conns, WARM_CHUNK_S)).requests;
}

/** One pair: a fresh full-configuration process and a fresh variant, started together, warmed up alike, measured in alternating order. */
async function runPair(v: FeatureVariant, run: FeatureCostsRun, pair: number, countRedis: boolean) {
  const tag = `${v.id}-${pair + 1}`;
  const t0 = Date.now();
  const [fullGw, offGw] = await Promise.all([startGateway(`feat-full-${tag}`, run.policy, run.sharedEnv(`feat-full-${tag}`)), startVariant(v, run, `feat-off-${tag}`)]);
  try {
    const noLog = () => undefined;
    const full: Side = { gw: fullGw, spec: run.spec(fullGw.url, await credentials(fullGw, noLog)) };
    const off: Side = { gw: offGw, spec: run.spec(offGw.url, v.id === 'keys' ? { 'x-tenant-id': 'bench' } : await credentials(offGw, noLog)) };
    // The first of a pair alternates from pair to pair, and within a pair from round to round.
    const ordered = (k: number): [Side, Side] => (k % 2 === 0 ? [full, off] : [off, full]);
    const startedMs = Date.now() - t0;
    for (const s of ordered(pair)) await warmUp(s, run);
    const loads = { full: [] as ProcessLoad[], off: [] as ProcessLoad[] };
    for (let round = 0; round < run.rounds; round++) {
      for (const s of ordered(pair + round)) {
        (s === full ? loads.full : loads.off).push(await load(s.gw.pid, s.spec, run.conns, run.duration));
      }
    }
    let redisCommands: number | undefined;
    if (countRedis) {
      const { commands, result } = await countRedisCommands(run.redisUrl, off.gw.pid, () => runAutocannon(off.spec, run.conns, REDIS_COUNT_S));
      redisCommands = commands / Math.max(1, result.requests);
    }
    return { loads, redisCommands, startedMs };
  } finally {
    await Promise.all([stopService(fullGw), stopService(offGw)]);
  }
}

/** Each variant in turn (the control first), in `run.pairs` pairs of fresh processes. */
export async function runFeatureCosts(run: FeatureCostsRun, log: (s: string) => void): Promise<FeatureCost[]> {
  const out: FeatureCost[] = [];
  for (const v of FEATURE_VARIANTS.filter((x) => !run.only || run.only.includes(x.id))) {
    const pairs: PairLoads[] = [];
    let redisCommands: number | undefined;
    for (let pair = 0; pair < run.pairs; pair++) {
      const t0 = Date.now();
      const r = await runPair(v, run, pair, pair === 0);
      pairs.push(r.loads);
      const cpu = (ms: readonly ProcessLoad[]) => ms.map((m) => m.cpuUs.toFixed(0)).join(', ');
      log(`    pair ${pair + 1}: full ${cpu(r.loads.full)}, without ${cpu(r.loads.off)} µs/req (started in ${r.startedMs} ms, ${Date.now() - t0} ms in all)`);
      redisCommands ??= r.redisCommands;
    }
    const summary = summarizeFeature(v, pairs);
    const cost: FeatureCost = { ...summary, verdict: featureVerdict(summary, noiseOf(out)), offRedisCommands: redisCommands };
    log(
      `  without ${v.label}: ${cost.offCpuUs.toFixed(0)} vs ${cost.fullCpuUs.toFixed(0)} µs/req; the feature costs ${cost.costUs.toFixed(0)} µs ` +
        `(pairs ${cost.pairCostsUs.map((c) => c.toFixed(0)).join(', ')}: ${cost.verdict}); ` +
        `read+write calls ${cost.offIoCalls.toFixed(2)} vs ${cost.fullIoCalls.toFixed(2)}, Redis commands ${f(cost.offRedisCommands, 2)} per request`,
    );
    out.push(cost);
  }
  return out;
}

const f = (v: number | undefined, d: number) => (v !== undefined && Number.isFinite(v) ? v.toFixed(d) : '–');

export function featureCostsTable(costs: readonly FeatureCost[]): string {
  return [
    '| switched off | how | CPU µs/req full / without | the feature costs µs/req | pairs | verdict | read+write calls/req full / without | Redis commands/req without |',
    '|---|---|---:|---:|---:|---|---:|---:|',
    ...costs.map(
      (c) =>
        `| ${c.label} | ${c.how} | ${f(c.fullCpuUs, 0)} / ${f(c.offCpuUs, 0)} | ${f(c.costUs, 0)} | ${c.pairCostsUs.map((x) => f(x, 0)).join(', ')} | ${c.verdict} | ` +
        `${f(c.fullIoCalls, 2)} / ${f(c.offIoCalls, 2)} | ${f(c.offRedisCommands, 2)}${c.errors ? ` (${c.errors} errors or non-2xx)` : ''} |`,
    ),
  ].join('\n');
}

/** The paragraph under the table: how it was measured and how to read it. */
export function featureCostsNote(run: FeatureCostsSettings): string {
  return (
    `The production configuration (single target, ${run.conns} connections) against the same with one feature off. Two fresh processes of one build differ by more than some features cost, ` +
    `so per feature there are ${run.pairs} pairs of fresh processes, each a full-configuration gateway and the variant started together, warmed up with ${run.warmRequests.toLocaleString('en-US')} requests each (a fresh process's CPU per request falls until then), ` +
    `then ${run.rounds} rounds × ${run.duration} s on each, back to back, the order alternating from round to round and pair to pair. ` +
    `*CPU µs/req*: utime + stime from /proc/<pid>/stat over the load and its deferred work (read ${TAIL_MS} ms after the load), per request, medians over every round of every pair. ` +
    "*the feature costs*: full − without, the median of the pairs' costs; *pairs*: each pair's cost (the median of its rounds' differences). " +
    '*the yardstick*: both processes in the full configuration, so its pairs show how far two identical processes differ in this run. ' +
    "*within noise*: the pairs' costs lie on both sides of 0, or the cost is no larger than the yardstick's largest pair (either way): the table cannot tell that feature's cost from 0. " +
    '*read+write calls/req*: syscr + syscw from /proc/<pid>/io over the same loads (every thread; epoll, sendmsg and recvmsg are not counted). ' +
    `*Redis commands/req*: counted on the first pair with MONITOR over a ${REDIS_COUNT_S} s load of its own (not a timed one), the commands from the variant's own connections; a Lua script's inner commands are not counted; the yardstick's is the full configuration's. ` +
    `Both are counts, not times, but not fixed: the writes of one event-loop pass are coalesced, and at ${run.conns} connections the ledger's reserves and settles of one pass go as one script call, ` +
    'so both move a little with how many calls share a pass (compare the yardstick\'s two processes).'
  );
}
