/**
 * Budgets: each tenant's spend in its period against its budget, as a bar
 * marked at its tier thresholds; the tier; the daily cap of batch and
 * background work; where the period ends at the current rate.
 */
import { api } from './api.js';
import { el, replace, svg } from './dom.js';
import { dateTime, percent, usd } from './format.js';
import { badge, empty, heading, type PageFactory } from './page.js';

interface BudgetRow {
  tenant: string;
  period: string;
  periodStart: string;
  periodEnd: string;
  budgetUsd: number;
  spentUsd: number;
  reservedUsd: number;
  shareUsed: number;
  tier: string;
  dailyCapUsd?: number;
  dailySpentUsd?: number;
  thresholds: { notice: number; downgrade: number; restrict: number } | null;
}

const DEFAULT_THRESHOLDS = { notice: 0.7, downgrade: 0.8, restrict: 0.95 };
const BAR_W = 600;
const BAR_H = 26;

export const budgetsPage: PageFactory = (root) => {
  const list = el('div', { class: 'cards' });
  root.append(heading('Budgets'), el('p', { class: 'muted' }, 'Spend in the current period; the marks are the tier thresholds. Refreshed every 5 s.'), list);
  return {
    everyMs: 5_000,
    async refresh() {
      const budgets = (await api('/admin/budgets')).data as BudgetRow[];
      if (budgets.length === 0) return replace(list, empty('No tenant has a budget: set one in the policy (budgets.tenants) or with PUT /admin/tenants/:tenant/budget.'));
      // The tenants nearest their budget first.
      replace(list, ...[...budgets].sort((a, b) => b.shareUsed - a.shareUsed || a.tenant.localeCompare(b.tenant)).map((b) => card(b, Date.now())));
    },
  };
};

function card(b: BudgetRow, now: number): HTMLElement {
  const t = b.thresholds ?? DEFAULT_THRESHOLDS;
  const start = Date.parse(b.periodStart);
  const end = Date.parse(b.periodEnd);
  // The period's pace so far, carried to its end.
  const elapsed = Math.max(now - start, 60_000);
  const projected = (b.spentUsd / elapsed) * (end - start);
  const runsOutAt = b.spentUsd > 0 && projected > b.budgetUsd ? start + (b.budgetUsd / b.spentUsd) * elapsed : undefined;
  return el(
    'section',
    { class: 'card budget', 'data-tenant': b.tenant, 'aria-label': `Budget of tenant ${b.tenant}` },
    el('h2', {}, el('span', { class: 'tenant' }, b.tenant), ' ', badge(b.tier, `tier-${b.tier}`)),
    bar(b.shareUsed, b.reservedUsd / b.budgetUsd, t, b.tier),
    el(
      'dl',
      { class: 'facts' },
      fact('Spent', `${usd(b.spentUsd)} of ${usd(b.budgetUsd)} (${percent(b.shareUsed)})`),
      fact('In flight (reserved)', usd(b.reservedUsd)),
      fact('Tiers from', `notice ${percent(t.notice, 0)} · downgrade ${percent(t.downgrade, 0)} · restricted ${percent(t.restrict, 0)} · exhausted 100 %`),
      fact('Period', `${b.period}: ${dateTime(b.periodStart)} → ${dateTime(b.periodEnd)}`),
      fact('Projected at period end', `${usd(projected)} (${percent(projected / b.budgetUsd, 0)})${runsOutAt !== undefined ? ` · runs out about ${dateTime(runsOutAt)}` : ''}`),
      b.dailyCapUsd !== undefined ? fact('Batch & background today', `${usd(b.dailySpentUsd ?? 0)} of the ${usd(b.dailyCapUsd)} daily cap (${percent((b.dailySpentUsd ?? 0) / b.dailyCapUsd)})`) : fact('Daily cap', 'none'),
    ),
  );
}

function fact(term: string, value: string): DocumentFragment {
  const f = document.createDocumentFragment();
  f.append(el('dt', {}, term), el('dd', {}, value));
  return f;
}

/** The bar: spent (coloured by tier), reserved after it, a mark at each threshold (labelled above) and at 100 % (below). */
function bar(share: number, reservedShare: number, t: { notice: number; downgrade: number; restrict: number }, tier: string): SVGSVGElement {
  const x = (s: number) => Math.min(Math.max(s, 0), 1) * BAR_W;
  const marks: [string, number][] = [
    ['notice', t.notice],
    ['downgrade', t.downgrade],
    ['restricted', t.restrict],
  ];
  return svg(
    'svg',
    { viewBox: `0 -16 ${BAR_W} ${BAR_H + 32}`, class: 'budget-bar', role: 'img', 'aria-label': `${percent(share)} of the budget spent; tier ${tier}` },
    svg('rect', { x: 0, y: 0, width: BAR_W, height: BAR_H, class: 'track' }),
    svg('rect', { x: 0, y: 0, width: x(share), height: BAR_H, class: `fill tier-${tier}` }),
    svg('rect', { x: x(share), y: 0, width: Math.max(0, x(share + reservedShare) - x(share)), height: BAR_H, class: 'reserved' }),
    ...marks.flatMap(([name, at]) => [
      svg('line', { x1: x(at), x2: x(at), y1: -2, y2: BAR_H + 2, class: 'mark' }, svg('title', {}, `${name} from ${percent(at, 0)}`)),
      svg('text', { x: x(at), y: -5, 'text-anchor': 'middle', class: 'axis' }, percent(at, 0)),
    ]),
    svg('line', { x1: BAR_W, x2: BAR_W, y1: -2, y2: BAR_H + 2, class: 'mark' }, svg('title', {}, 'exhausted at 100 %')),
    svg('text', { x: BAR_W, y: BAR_H + 13, 'text-anchor': 'end', class: 'axis' }, '100 %'),
  );
}
