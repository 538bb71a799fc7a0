/**
 * "Over time" for the charts: GET /admin/report/series, the admin report's
 * figures per time bucket. A bucket that ended over a minute ago no longer
 * changes: it is fetched once per tab and kept, so a refresh reads only the
 * current bucket (at 10,000 records a minute an hour holds 600,000 records;
 * the current five minutes at most 50,000).
 */
import { api, query } from './api.js';
import { el } from './dom.js';
import { bucketLabel } from './format.js';

export interface ReportWindow {
  id: string;
  label: string;
  buckets: number;
  bucketMs: number;
  /** How often its charts are fetched again. */
  refreshMs: number;
}

export const WINDOWS: ReportWindow[] = [
  { id: '1h', label: 'Last hour (5 min)', buckets: 12, bucketMs: 5 * 60_000, refreshMs: 15_000 },
  { id: '24h', label: 'Last 24 hours (hourly)', buckets: 24, bucketMs: 3600_000, refreshMs: 60_000 },
  { id: '7d', label: 'Last 7 days (daily)', buckets: 7, bucketMs: 86_400_000, refreshMs: 300_000 },
];

export interface ReportSeries {
  labels: string[];
  /** Each bucket's report, oldest first. */
  reports: any[];
}

/** Records reach the store within a flush interval (a second by default): a minute later a bucket is final. */
const SETTLED_MS = 60_000;
const settled = new Map<string, any>();
/** A bucket the gateway did not answer for (its clock behind this browser's): nothing in it. */
const NOTHING = {
  totals: { requests: 0, failed: 0, fallbacks: 0, fallbackRate: 0, costUsd: 0 },
  fallbacks: { byClass: [], byPrimaryProvider: [] },
  failures: { requestsByCategory: [], attemptsByProviderAndCategory: [] },
  cost: { byClass: [], byModel: [], byTenant: [], byKey: [] },
  latencyMsByClass: [],
};

export async function reportSeries(window: ReportWindow, now = Date.now()): Promise<ReportSeries> {
  // Buckets end at the next whole bucket after now, so the last one is the current one.
  const end = Math.ceil((now + 1) / window.bucketMs) * window.bucketMs;
  const starts = Array.from({ length: window.buckets }, (_, i) => end - (window.buckets - i) * window.bucketMs);
  const id = (start: number) => `${window.bucketMs}:${start}`;
  const fresh = new Map<number, any>();
  // One bucket per request, one after the other: on SQLite a read holds the gateway's event loop, and a bucket
  // is a short hold where a whole window would be a long one (measured in the README's Console section).
  for (const start of starts.filter((s) => !settled.has(id(s)))) {
    const range = { from: new Date(start).toISOString(), to: new Date(start + window.bucketMs).toISOString(), bucket: window.bucketMs / 1000 };
    const report = (await api(`/admin/report/series${query(range)}`)).data[0];
    if (report === undefined) continue;
    fresh.set(start, report);
    if (start + window.bucketMs < now - SETTLED_MS) settled.set(id(start), report);
  }
  if (settled.size > 1_000) settled.clear();
  return { labels: starts.map((s) => bucketLabel(s, window.bucketMs)), reports: starts.map((s) => settled.get(id(s)) ?? fresh.get(s) ?? NOTHING) };
}

/** Cost rows of every bucket summed by key, largest first, with each key's share of the window. */
export function costOverWindow(reports: any[], rows: (report: any) => { key: string | null; costUsd: number; requests: number }[]) {
  const sums = new Map<string | null, { costUsd: number; requests: number }>();
  for (const r of reports) {
    for (const row of rows(r)) {
      const s = sums.get(row.key) ?? { costUsd: 0, requests: 0 };
      s.costUsd += row.costUsd;
      s.requests += row.requests;
      sums.set(row.key, s);
    }
  }
  const total = [...sums.values()].reduce((t, s) => t + s.costUsd, 0);
  return [...sums].map(([key, s]) => ({ key, ...s, share: total > 0 ? s.costUsd / total : 0 })).sort((a, b) => b.costUsd - a.costUsd);
}

/** One series per key found in any bucket: `rows(report)` lists a bucket's rows, `value(row)` the number charted. */
export function seriesBy<R>(reports: any[], rows: (report: any) => R[], key: (row: R) => string, value: (row: R) => number | null) {
  const names = [...new Set(reports.flatMap((r) => rows(r).map(key)))].sort();
  return names.map((name) => ({
    name,
    values: reports.map((r) => {
      const row = rows(r).find((x) => key(x) === name);
      return row === undefined ? null : value(row);
    }),
  }));
}

/** The window picker shown above a page's charts. */
export function windowPicker(current: ReportWindow, onChange: (w: ReportWindow) => void): HTMLElement {
  const select = el(
    'select',
    { id: 'window', onchange: () => onChange(WINDOWS.find((w) => w.id === select.value) ?? current) },
    ...WINDOWS.map((w) => el('option', { value: w.id, selected: w.id === current.id }, w.label)),
  );
  return el('label', { class: 'inline' }, 'Window ', select);
}
