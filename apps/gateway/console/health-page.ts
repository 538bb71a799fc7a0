/**
 * Routing health: every target's circuit (refreshed every 2 s), and over the
 * chosen window the fallback rate per class and per primary provider, the
 * failure categories, and latency percentiles per class (every 15 s to
 * 5 min, by window).
 */
import { api } from './api.js';
import { el, replace } from './dom.js';
import { dateTime, ms, percent } from './format.js';
import { lineChart } from './chart.js';
import { badge, empty, heading, table, type PageFactory } from './page.js';
import { reportSeries, seriesBy, windowPicker, WINDOWS, type ReportWindow } from './report-series.js';

export const healthPage: PageFactory = (root) => {
  let window: ReportWindow = WINDOWS[0]!;
  let seriesAt = 0;
  const circuits = el('div');
  const charts = el('div', { class: 'charts' });
  const latency = el('div');
  root.append(
    heading('Routing health', windowPicker(window, (w) => {
      window = w;
      seriesAt = 0;
    })),
    el('h2', {}, 'Circuits'),
    circuits,
    el('h2', {}, 'Latency per class (successful calls, latest bucket with calls)'),
    latency,
    charts,
  );
  return {
    everyMs: 2_000,
    async refresh() {
      const list = await api('/admin/circuits');
      replace(
        circuits,
        table(
          ['Target', 'Provider', 'Circuit', 'Consecutive failures', 'Next probe'],
          list.data.map((c: any) => [c.target, c.provider, badge(c.status, `circuit-${c.status}`), c.consecutiveFailures, c.retryAt ? dateTime(c.retryAt) : '–']),
          { id: 'circuits' },
        ),
      );
      if (Date.now() - seriesAt < window.refreshMs) return;
      seriesAt = Date.now();
      const { labels, reports } = await reportSeries(window);
      // Percentiles do not add up across buckets: the table is the latest bucket with calls; the chart has every bucket's p95.
      const latest = reports.findLastIndex((r) => r.latencyMsByClass.length > 0);
      replace(
        latency,
        latest === -1
          ? empty('No successful call in this window.')
          : el(
              'div',
              {},
              el('p', { class: 'muted' }, `Calls from ${dateTime(reports[latest].from)} to ${dateTime(reports[latest].to)}`),
              table(
                ['Class', 'Calls', 'p50', 'p90', 'p95', 'p99', 'max'],
                (reports[latest].latencyMsByClass as any[]).map((r) => [r.trafficClass, r.requests, ms(r.p50), ms(r.p90), ms(r.p95), ms(r.p99), ms(r.max)]),
                { id: 'latency' },
              ),
            ),
      );
      replace(
        charts,
        lineChart({ title: 'Fallback rate per class', labels, series: seriesBy(reports, (r) => r.fallbacks.byClass, (x: any) => x.key ?? '(none)', (x: any) => x.fallbackRate), format: (v) => percent(v, 0), minMax: 0.1 }),
        lineChart({
          title: 'Fallback rate per primary provider',
          labels,
          series: seriesBy(reports, (r) => r.fallbacks.byPrimaryProvider, (x: any) => x.key ?? '(none)', (x: any) => x.fallbackRate),
          format: (v) => percent(v, 0),
          minMax: 0.1,
        }),
        lineChart({ title: 'Failed calls by category', labels, series: seriesBy(reports, (r) => r.failures.requestsByCategory, (x: any) => x.category, (x: any) => x.count), format: count }),
        lineChart({
          title: 'Failed attempts by provider and category',
          labels,
          series: seriesBy(reports, (r) => r.failures.attemptsByProviderAndCategory, (x: any) => `${x.provider}: ${x.category}`, (x: any) => x.count),
          format: count,
        }),
        lineChart({ title: 'p95 latency per class', labels, series: seriesBy(reports, (r) => r.latencyMsByClass, (x: any) => x.trafficClass, (x: any) => x.p95), format: ms }),
      );
    },
  };
};

function count(v: number): string {
  return v >= 10 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
}
