/**
 * Work in progress: batches (GET /admin/batches) and deferred requests
 * (GET /admin/deferred) across tenants, newest first, as text: who, where it
 * stands, how far a batch got, why it waits and until when.
 */
import { api } from './api.js';
import { el, replace } from './dom.js';
import { dateTime } from './format.js';
import { empty, heading, row, table, type PageFactory } from './page.js';

/** The API's Unix seconds as the console writes a time. */
const at = (seconds: number | null | undefined) => (seconds === null || seconds === undefined ? '–' : dateTime(seconds * 1000));

export const workPage: PageFactory = (root) => {
  const batches = el('div', { 'data-listing': '/admin/batches' });
  const deferred = el('div', { 'data-listing': '/admin/deferred' });
  root.append(heading('Work in progress'), el('h2', {}, 'Batches'), batches, el('h2', {}, 'Deferred requests'), deferred);
  return {
    everyMs: 5_000,
    async refresh() {
      const [b, d] = await Promise.all([api('/admin/batches?limit=100'), api('/admin/deferred?limit=100')]);
      const batchItems = (b.data ?? []) as any[];
      const deferredItems = (d.data ?? []) as any[];
      replace(
        batches,
        batchItems.length === 0
          ? empty('None yet: no batches.')
          : table(
              ['Id', 'Tenant', 'Status', 'Progress', 'Paused because', 'Resumes', 'Created'],
              batchItems.map((i) =>
                row({ 'data-id': i.id }, [i.id, i.llm_router?.tenant ?? '–', i.status, progress(i.request_counts), i.llm_router?.pause?.reason ?? '–', pauseResume(i.llm_router?.pause), at(i.created_at)]),
              ),
              { id: 'batches' },
            ),
      );
      replace(
        deferred,
        deferredItems.length === 0
          ? empty('None yet: no deferred requests.')
          : table(
              ['Id', 'Tenant', 'Class', 'Status', 'Deferred because', 'Attempts', 'Next attempt', 'Last error', 'Created'],
              deferredItems.map((i) =>
                row({ 'data-id': i.id }, [i.id, i.tenant ?? '–', i.traffic_class, i.status, i.reason, i.attempts, at(i.next_attempt_at), i.last_error?.error?.message ?? '–', at(i.created_at)]),
              ),
              { id: 'deferred' },
            ),
      );
    },
  };
};

function progress(counts: { total: number; completed: number; failed: number } | undefined): string {
  if (!counts) return '–';
  return `${counts.completed} / ${counts.total}${counts.failed ? `, ${counts.failed} failed` : ''}`;
}

function pauseResume(pause: { resumes_at: string; resumes_when: string } | null | undefined): string {
  return pause ? `${dateTime(pause.resumes_at)} at the latest (${pause.resumes_when})` : '–';
}
