import type { CountRow, LatencyRow, ReportSeriesData } from '../store/gateway-store.js';
import type { ResolvedRange } from './time-range.js';

const rate = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0);
const usd = (v: number) => Math.round(v * 1e9) / 1e9;

/** Sums keyed by a dimension's value, in first-seen order. */
class Tally<V> {
  readonly rows = new Map<string | null, V>();
  constructor(private readonly zero: () => V) {}
  at(key: string | null): V {
    let v = this.rows.get(key);
    if (v === undefined) this.rows.set(key, (v = this.zero()));
    return v;
  }
}

const counts = () => ({ requests: 0, fallbacks: 0 });
const costs = () => ({ costUsd: 0, requests: 0 });

/** One time bucket's figures, named as in the admin report. */
class Bucket {
  requests = 0;
  failed = 0;
  fallbacks = 0;
  costUsd = 0;
  readonly byClass = new Tally(counts);
  readonly byPrimaryProvider = new Tally(counts);
  readonly failedByCategory = new Tally(() => ({ count: 0 }));
  readonly attemptFailures: { provider: string; category: string; count: number }[] = [];
  readonly cost = { byClass: new Tally(costs), byModel: new Tally(costs), byTenant: new Tally(costs), byKey: new Tally(costs) };
  readonly latency: LatencyRow[] = [];
}

const countRows = (t: Tally<{ requests: number; fallbacks: number }>): (CountRow & { fallbackRate: number })[] =>
  [...t.rows].map(([key, v]) => ({ key, ...v, fallbackRate: rate(v.fallbacks, v.requests) }));
const costRows = (t: Tally<{ costUsd: number; requests: number }>) =>
  [...t.rows].map(([key, v]) => ({ key, costUsd: usd(v.costUsd), requests: v.requests })).sort((a, b) => b.costUsd - a.costUsd);

/**
 * The store's grouped rows folded into one report per bucket, with the
 * admin report's names and rules: fallbacks per class and per primary
 * provider, failed calls by category (`unknown` when none), failed attempts
 * by provider and category, cost by class, served model, tenant and key,
 * latency percentiles of successful calls per class.
 */
export function reportSeriesView(range: ResolvedRange, bucketMs: number, data: ReportSeriesData) {
  const n = Math.max(1, Math.ceil((range.to - range.from) / bucketMs));
  const buckets = Array.from({ length: n }, () => new Bucket());
  for (const r of data.records) {
    const b = buckets[r.bucket];
    if (b === undefined) continue;
    b.requests += r.requests;
    b.costUsd += r.costUsd;
    const fallbacks = r.fallback ? r.requests : 0;
    b.fallbacks += fallbacks;
    const cls = b.byClass.at(r.trafficClass);
    cls.requests += r.requests;
    cls.fallbacks += fallbacks;
    if (r.primaryProvider !== null) {
      const p = b.byPrimaryProvider.at(r.primaryProvider);
      p.requests += r.requests;
      p.fallbacks += fallbacks;
    }
    if (r.outcome !== 'success') {
      b.failed += r.requests;
      b.failedByCategory.at(r.errorCategory ?? 'unknown').count += r.requests;
    }
    for (const [tally, key] of [
      [b.cost.byClass, r.trafficClass],
      [b.cost.byModel, r.servedModel],
      [b.cost.byTenant, r.tenant],
      [b.cost.byKey, r.keyId],
    ] as const) {
      // As in the report: cost by model counts the calls some model served.
      if (tally === b.cost.byModel && key === null) continue;
      const c = tally.at(key);
      c.costUsd += r.costUsd;
      c.requests += r.requests;
    }
  }
  for (const a of data.attemptFailures) buckets[a.bucket]?.attemptFailures.push({ provider: a.provider, category: a.category, count: a.count });
  for (const l of data.latencyByClass) {
    const { bucket, ...row } = l;
    buckets[bucket]?.latency.push(row);
  }
  return {
    object: 'report.series',
    bucketSeconds: bucketMs / 1000,
    data: buckets.map((b, i) => ({
      from: new Date(range.from + i * bucketMs).toISOString(),
      to: new Date(Math.min(range.from + (i + 1) * bucketMs, range.to)).toISOString(),
      totals: { requests: b.requests, failed: b.failed, fallbacks: b.fallbacks, fallbackRate: rate(b.fallbacks, b.requests), costUsd: usd(b.costUsd) },
      fallbacks: { byClass: countRows(b.byClass), byPrimaryProvider: countRows(b.byPrimaryProvider) },
      failures: {
        requestsByCategory: [...b.failedByCategory.rows].map(([category, v]) => ({ category: category!, count: v.count })),
        attemptsByProviderAndCategory: b.attemptFailures,
      },
      cost: { byClass: costRows(b.cost.byClass), byModel: costRows(b.cost.byModel), byTenant: costRows(b.cost.byTenant), byKey: costRows(b.cost.byKey) },
      latencyMsByClass: b.latency,
    })),
  };
}
