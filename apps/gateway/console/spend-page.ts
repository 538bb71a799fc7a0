/** Spend over the chosen window, by class, model, tenant and API key. */
import { api } from './api.js';
import { el, replace } from './dom.js';
import { usd } from './format.js';
import { lineChart } from './chart.js';
import { heading, table, type PageFactory } from './page.js';
import { costOverWindow, reportSeries, seriesBy, windowPicker, WINDOWS, type ReportWindow } from './report-series.js';

const DIMENSIONS = [
  ['byClass', 'class'],
  ['byModel', 'model'],
  ['byTenant', 'tenant'],
  ['byKey', 'API key'],
] as const;

export const spendPage: PageFactory = (root) => {
  let window: ReportWindow = WINDOWS[0]!;
  let fetchedAt = 0;
  const totals = el('div', { class: 'totals' });
  const charts = el('div', { class: 'charts' });
  const page = {
    everyMs: 5_000,
    async refresh(force = false) {
      if (!force && Date.now() - fetchedAt < window.refreshMs) return;
      fetchedAt = Date.now();
      const [{ labels, reports }, keys] = await Promise.all([reportSeries(window), api('/admin/keys')]);
      // A key is named by its id and, when it has one, its name and tenant.
      const keyNames = new Map<string, string>((keys.data as any[]).map((k) => [k.id, k.name ? `${k.id} (${k.tenant}: ${k.name})` : `${k.id} (${k.tenant})`]));
      const name = (field: string, key: string | null) => (key === null ? '(none)' : field === 'byKey' ? (keyNames.get(key) ?? key) : key);
      const cost = reports.reduce((t, r) => t + r.totals.costUsd, 0);
      const calls = reports.reduce((t, r) => t + r.totals.requests, 0);
      replace(totals, el('p', { class: 'big' }, `${usd(cost)} over ${calls} calls in this window`));
      replace(
        charts,
        ...DIMENSIONS.flatMap(([field, dimension]) => {
          const rows = costOverWindow(reports, (r) => r.cost[field]);
          return [
            lineChart({ title: `Spend by ${dimension}`, labels, series: seriesBy(reports, (r) => r.cost[field], (x: any) => name(field, x.key), (x: any) => x.costUsd), format: usd }),
            table([dimension, 'Spend', 'Calls', 'Share'], rows.slice(0, 20).map((r) => [name(field, r.key), usd(r.costUsd), r.requests, `${Math.round(r.share * 100)} %`]), { class: 'compact' }),
          ];
        }),
      );
    },
  };
  root.append(
    heading('Spend', windowPicker(window, (w) => {
      window = w;
      // A failure shows at the next tick, which tries again.
      page.refresh(true).catch(() => (fetchedAt = 0));
    })),
    totals,
    charts,
  );
  return page;
};
