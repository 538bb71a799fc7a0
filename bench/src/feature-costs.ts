/**
 * What each feature costs per request: the production configuration's
 * gateway against the same with one feature off (keys, budgets, request log,
 * records, metrics, Redis, PostgreSQL), on the single-target scenario,
 * measured back to back in each round so the ratio is taken in the same round.
 */
import { median, runAutocannon, type RequestSpec } from './load.js';
import { credentials, writePolicyWithoutBudgets } from './our-gateway.js';
import { cpuMicros, sleep, stopService, type Service } from './processes.js';
import { startGateway } from './fleet.js';

export interface FeatureVariant {
  readonly id: string;
  /** What is off, as the table says it. */
  readonly label: string;
  /** How it is switched off. */
  readonly how: string;
}

export const FEATURE_VARIANTS: readonly FeatureVariant[] = [
  { id: 'keys', label: 'API keys', how: 'LLM_AUTH=disabled (tenant in x-tenant-id)' },
  { id: 'budgets', label: 'tenant budget', how: 'the policy without `budgets`' },
  { id: 'request-log', label: 'request log', how: 'LLM_REQUEST_LOG=false' },
  { id: 'records', label: 'routing records (journal and store)', how: 'LLM_RECORDS=false' },
  { id: 'metrics', label: 'Prometheus series', how: 'LLM_METRICS=false' },
  { id: 'redis', label: 'Redis (in-process ledger, circuits, file journal)', how: 'no LLM_REDIS_URL' },
  { id: 'postgres', label: 'PostgreSQL (SQLite file instead)', how: 'no DATABASE_URL' },
];

export interface FeatureCost {
  readonly id: string;
  readonly label: string;
  readonly how: string;
  readonly rounds: number;
  /** Median over the rounds of CPU µs per request: the full production configuration, and with this feature off. */
  readonly fullCpuUs: number;
  readonly offCpuUs: number;
  /** Median of the per-round ratios off / full. */
  readonly ratio: number;
  /** What the feature costs: full − off, µs per request (median of the per-round differences). */
  readonly costUs: number;
  readonly fullRps: number;
  readonly offRps: number;
  readonly errors: number;
}

export interface FeatureCostsRun {
  readonly policy: string;
  /** The running production-configuration gateway (the full configuration) and its credentials. */
  readonly full: Service;
  readonly fullHeaders: Record<string, string>;
  /** The shared services' env for one more gateway (a fresh Redis prefix and schema). */
  readonly sharedEnv: (name: string) => Record<string, string>;
  readonly spec: (url: string, headers: Record<string, string>) => RequestSpec;
  readonly conns: number;
  readonly duration: number;
  readonly rounds: number;
  readonly warmup: number;
}

async function cpuPerRequest(pid: number, spec: RequestSpec, conns: number, duration: number) {
  const before = cpuMicros(pid);
  const r = await runAutocannon(spec, conns, duration);
  return { cpuUs: (cpuMicros(pid) - before) / Math.max(1, r.requests), rps: r.rps, errors: r.errors + r.non2xx };
}

async function startVariant(v: FeatureVariant, run: FeatureCostsRun): Promise<Service> {
  const name = `prod-no-${v.id}`;
  const shared = run.sharedEnv(name);
  switch (v.id) {
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

/** Each variant in turn: started, warmed up, measured against the full configuration round by round, stopped. */
export async function runFeatureCosts(run: FeatureCostsRun, log: (s: string) => void): Promise<FeatureCost[]> {
  const out: FeatureCost[] = [];
  const full = run.spec(run.full.url, run.fullHeaders);
  for (const v of FEATURE_VARIANTS) {
    const gw = await startVariant(v, run);
    try {
      const headers = v.id === 'keys' ? { 'x-tenant-id': 'bench' } : await credentials(gw, log);
      const off = run.spec(gw.url, headers);
      if (run.warmup > 0) for (const s of [full, off]) await runAutocannon(s, run.conns, run.warmup);
      const fulls: { cpuUs: number; rps: number }[] = [];
      const offs: { cpuUs: number; rps: number }[] = [];
      let errors = 0;
      for (let round = 0; round < run.rounds; round++) {
        // Alternate which goes first, as the main rounds rotate their targets.
        const order = round % 2 === 0 ? ([['full', full, run.full.pid], ['off', off, gw.pid]] as const) : ([['off', off, gw.pid], ['full', full, run.full.pid]] as const);
        for (const [which, spec, pid] of order) {
          const m = await cpuPerRequest(pid, spec, run.conns, run.duration);
          if (which === 'off') errors += m.errors;
          (which === 'full' ? fulls : offs).push(m);
          await sleep(200);
        }
      }
      const ratios = offs.map((o, i) => o.cpuUs / fulls[i]!.cpuUs);
      const costs = offs.map((o, i) => fulls[i]!.cpuUs - o.cpuUs);
      const cost: FeatureCost = {
        id: v.id,
        label: v.label,
        how: v.how,
        rounds: run.rounds,
        fullCpuUs: median(fulls.map((m) => m.cpuUs)),
        offCpuUs: median(offs.map((m) => m.cpuUs)),
        ratio: median(ratios),
        costUs: median(costs),
        fullRps: median(fulls.map((m) => m.rps)),
        offRps: median(offs.map((m) => m.rps)),
        errors,
      };
      log(`  without ${v.label}: ${cost.offCpuUs.toFixed(0)} vs ${cost.fullCpuUs.toFixed(0)} µs/req (${cost.ratio.toFixed(2)}×, the feature costs ${cost.costUs.toFixed(0)} µs)`);
      out.push(cost);
    } finally {
      await stopService(gw);
    }
  }
  return out;
}

const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '–');

export function featureCostsTable(costs: readonly FeatureCost[]): string {
  return [
    '| switched off | how | CPU µs/req without it | full configuration µs/req | ratio to full | the feature costs µs/req | req/s without / full |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...costs.map(
      (c) =>
        `| ${c.label} | ${c.how} | ${f(c.offCpuUs, 0)} | ${f(c.fullCpuUs, 0)} | ${f(c.ratio, 2)} | ${f(c.costUs, 0)} | ${f(c.offRps, 0)} / ${f(c.fullRps, 0)}${c.errors ? ` (${c.errors} errors or non-2xx)` : ''} |`,
    ),
  ].join('\n');
}
