/**
 * "Over time" for the charts: the admin report (GET /admin/report?from=&to=)
 * of each time bucket of a window, fetched in parallel. The report is the one
 * owner of these aggregates; the console asks it rather than summing records.
 */
import { api, query } from './api.js';
import { el } from './dom.js';
import { bucketLabel } from './format.js';

export interface ReportWindow {
  id: string;
  label: string;
  buckets: number;
  bucketMs: number;
  /** How often its charts are fetched again: a longer window changes slowly and costs the store more to sum. */
  refreshMs: number;
}

export const WINDOWS: ReportWindow[] = [
  { id: '1h', label: 'Last hour (5 min)', buckets: 12, bucketMs: 5 * 60_000, refreshMs: 15_000 },
  { id: '24h', label: 'Last 24 hours (hourly)', buckets: 24, bucketMs: 3600_000, refreshMs: 60_000 },
  { id: '7d', label: 'Last 7 days (daily)', buckets: 7, bucketMs: 86_400_000, refreshMs: 300_000 },
];

export interface ReportSeries {
  labels: string[];
  /** Each bucket's report. */
  reports: any[];
  /** The report of the whole window. */
  whole: any;
}

export async function reportSeries(window: ReportWindow, now = Date.now()): Promise<ReportSeries> {
  // Buckets end at the next whole bucket after now, so the last one is the current one.
  const end = Math.ceil((now + 1) / window.bucketMs) * window.bucketMs;
  const start = end - window.buckets * window.bucketMs;
  const range = (from: number, to: number) => query({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
  const starts = Array.from({ length: window.buckets }, (_, i) => start + i * window.bucketMs);
  const [whole, ...reports] = await Promise.all([api(`/admin/report${range(start, end)}`), ...starts.map((s) => api(`/admin/report${range(s, s + window.bucketMs)}`))]);
  return { labels: starts.map((s) => bucketLabel(s, window.bucketMs)), reports, whole };
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
