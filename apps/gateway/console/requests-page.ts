/**
 * Requests: the routing records (GET /admin/records), newest first, filtered
 * and paged by cursor (a page at a time: at 10,000 records a minute nothing
 * else stays readable). The first page follows new records live; a click or
 * Enter on a row opens its story below the table.
 */
import { api, query } from './api.js';
import { el, replace } from './dom.js';
import { dateTime, ms, usd } from './format.js';
import { badge, empty, field, heading, row, table, type PageFactory } from './page.js';
import { requestStory } from './request-story.js';

const TEXT_FILTERS = [
  ['tenant', 'Tenant'],
  ['class', 'Class'],
  ['key', 'API key id'],
  ['session', 'Session'],
  ['model', 'Model'],
  ['category', 'Category'],
] as const;

export const requestsPage: PageFactory = (root) => {
  /** Cursors of the pages before the current one (the first page's is undefined). */
  const cursors: (string | undefined)[] = [undefined];
  let next: string | null = null;
  let filters: Record<string, string> = {};
  let openId: string | undefined;

  const inputs = Object.fromEntries(TEXT_FILTERS.map(([name]) => [name, el('input', { id: `f-${name}`, name, type: 'search', autocomplete: 'off' })]));
  const outcome = choice('outcome', ['', 'success', 'failure', 'aborted']);
  const fallback = choice('fallback', ['', 'true', 'false']);
  const from = el('input', { id: 'f-from', name: 'from', type: 'datetime-local' });
  const to = el('input', { id: 'f-to', name: 'to', type: 'datetime-local' });
  const limit = choice('limit', ['50', '25', '100', '200']);
  const live = el('input', { id: 'f-live', type: 'checkbox', checked: true });
  const form = el(
    'form',
    { class: 'filters', role: 'search', onsubmit: (e: Event) => (e.preventDefault(), search()) },
    ...TEXT_FILTERS.map(([name, label]) => field(label, inputs[name]!)),
    field('Outcome', outcome),
    field('Fallback', fallback),
    field('From', from),
    field('To', to),
    field('Per page', limit),
    el('button', { type: 'submit' }, 'Search'),
    el('label', { class: 'inline' }, live, ' Live (first page)'),
  );
  const results = el('div', { id: 'results' });
  const pager = el('div', { class: 'pager' });
  const storyBox = el('section', { id: 'story', 'aria-label': 'Request story' });
  root.append(heading('Requests'), form, pager, results, storyBox);

  const search = () => {
    filters = {};
    for (const [name] of TEXT_FILTERS) if (inputs[name]!.value.trim() !== '') filters[name] = inputs[name]!.value.trim();
    if (outcome.value) filters.outcome = outcome.value;
    if (fallback.value) filters.fallback = fallback.value;
    if (from.value) filters.from = new Date(from.value).toISOString();
    if (to.value) filters.to = new Date(to.value).toISOString();
    cursors.length = 1;
    return load();
  };

  const load = async () => {
    const cursor = cursors[cursors.length - 1];
    const page = await api(`/admin/records${query({ ...filters, limit: limit.value, cursor })}`);
    next = page.next_cursor;
    // A refresh must not take the keyboard focus away from the row it is on.
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.recordId;
    replace(results, page.data.length === 0 ? empty('No routing record matches.') : recordsTable(page.data, open));
    if (focused) (results.querySelector(`tr[data-record-id="${CSS.escape(focused)}"]`) as HTMLElement | null)?.focus();
    replace(
      pager,
      el('button', { type: 'button', disabled: cursors.length === 1, onclick: () => (cursors.pop(), load()) }, '← Newer'),
      el('span', { class: 'muted' }, ` page ${cursors.length} `),
      el('button', { type: 'button', disabled: next === null, onclick: () => (cursors.push(next!), load()) }, 'Older →'),
    );
  };

  // Escape closes the story and puts the keyboard back on the row it came from.
  storyBox.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || openId === undefined) return;
    const from = openId;
    openId = undefined;
    replace(storyBox);
    (results.querySelector(`tr[data-request-id="${CSS.escape(from)}"]`) as HTMLElement | null)?.focus();
  });

  const open = async (requestId: string) => {
    openId = requestId;
    replace(storyBox, el('p', { class: 'muted' }, 'Loading…'));
    try {
      replace(storyBox, await requestStory(requestId));
    } catch (err) {
      replace(storyBox, el('p', { class: 'error', role: 'alert' }, (err as Error).message));
    }
    if (openId === requestId) (storyBox.querySelector('h2') as HTMLElement | null)?.focus();
  };

  let first = true;
  return {
    everyMs: 3_000,
    async refresh() {
      if (first) {
        first = false;
        return search();
      }
      if (live.checked && cursors.length === 1) await load();
    },
  };
};

function recordsTable(records: any[], open: (requestId: string) => void): HTMLTableElement {
  const rows = records.map((r) =>
    row(
      {
        tabindex: 0,
        class: 'clickable',
        'data-record-id': r.recordId ?? r.requestId,
        'data-request-id': r.requestId,
        'aria-label': `Request ${r.requestId}: open its story`,
        onclick: () => open(r.requestId),
        onkeydown: (e: KeyboardEvent) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            open(r.requestId);
          }
        },
      },
      [
        dateTime(r.startedAt),
        el('code', {}, r.requestId),
        r.tenant ?? '–',
        r.trafficClass,
        r.servedModel ?? r.primaryModel ?? '–',
        badge(r.outcome, `outcome-${r.outcome}`),
        r.fallback ? badge('yes', 'fallback') : 'no',
        r.errorCategory ?? (r.attempts ?? []).find((a: any) => a.category)?.category ?? '–',
        (r.attempts ?? []).length,
        ms(r.latencyMs),
        usd(r.costUsd),
      ],
    ),
  );
  return table(['Time', 'Request', 'Tenant', 'Class', 'Model', 'Outcome', 'Fallback', 'Category', 'Attempts', 'Latency', 'Cost'], rows, { id: 'records' });
}

function choice(name: string, values: string[]): HTMLSelectElement {
  return el('select', { id: `f-${name}`, name }, ...values.map((v) => el('option', { value: v }, v === '' ? 'any' : v)));
}
