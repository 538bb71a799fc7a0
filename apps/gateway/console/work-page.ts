/**
 * Work in progress: batches and deferred requests. Their admin listings
 * (GET /admin/batches, GET /admin/deferred) are not part of this gateway yet;
 * the page shows them once such a listing answers, and says so until then.
 */
import { api, ApiError } from './api.js';
import { el, replace } from './dom.js';
import { dateTime } from './format.js';
import { empty, heading, table, type PageFactory } from './page.js';

const LISTINGS = [
  ['/admin/batches', 'Batches'],
  ['/admin/deferred', 'Deferred requests'],
] as const;

export const workPage: PageFactory = (root) => {
  const sections = LISTINGS.map(([path, title]) => [path, title, el('div', { 'data-listing': path })] as const);
  root.append(heading('Work in progress'), ...sections.flatMap(([, title, box]) => [el('h2', {}, title), box]));
  return {
    everyMs: 5_000,
    async refresh() {
      for (const [path, title, box] of sections) {
        try {
          const items = ((await api(path)).data ?? []) as any[];
          replace(
            box,
            items.length === 0
              ? empty(`None yet: no ${title.toLowerCase()} in progress.`)
              : table(
                  ['Id', 'Status', 'Progress', 'Reason', 'Created'],
                  items.map((i) => [i.id, i.status ?? '–', progress(i), i.reason ?? i.pauseReason ?? '–', dateTime(i.createdAt ?? i.created_at)]),
                ),
          );
        } catch (err) {
          if (!(err instanceof ApiError) || err.status !== 404) throw err;
          replace(box, empty(`None yet: this gateway has no ${title.toLowerCase()} (no ${path} listing).`));
        }
      }
    },
  };
};

function progress(item: any): string {
  const counts = item.request_counts ?? item.counts;
  if (counts && typeof counts.total === 'number') return `${counts.completed ?? 0} / ${counts.total}${counts.failed ? `, ${counts.failed} failed` : ''}`;
  return '–';
}
