/**
 * One request's whole story, from GET /admin/records/:requestId: who asked,
 * the plan (route, exclusions and why, floor), each attempt with its category,
 * status and latency, why the router switched, what it cost, which policy
 * version decided (when the record carries one).
 */
import { api } from './api.js';
import { el } from './dom.js';
import { dateTime, ms, usd } from './format.js';
import { badge, table } from './page.js';

export async function requestStory(requestId: string): Promise<HTMLElement> {
  const found = await api(`/admin/records/${encodeURIComponent(requestId)}`);
  const records: any[] = found.object === 'list' ? found.data : [found];
  return el('div', {}, ...records.map(story));
}

function story(r: any): HTMLElement {
  const plan = r.plan ?? {};
  const attempts: any[] = r.attempts ?? [];
  return el(
    'article',
    { class: 'story', 'data-request-id': r.requestId },
    el('h2', { tabindex: -1 }, 'Request ', el('code', {}, r.requestId), ' ', badge(r.outcome, `outcome-${r.outcome}`), r.fallback ? badge('fallback', 'fallback') : null),
    el(
      'dl',
      { class: 'facts' },
      ...pairs([
        ['Started', dateTime(r.startedAt)],
        ['Tenant', r.tenant],
        ['API key', r.keyId],
        ['Feature', r.feature],
        ['Session', r.session],
        ['Class', `${r.trafficClass}${r.criticality ? ` (${r.criticality})` : ''}`],
        ['Requested model', plan.requestedModel],
        ['Served by', r.servedModel ? `${r.servedModel} on ${r.servedProvider} (${r.upstreamModel})` : 'nobody'],
        ['Failure', r.errorCategory ? `${r.errorCategory}: ${r.errorMessage ?? ''}` : null],
        ['Tokens', `${r.promptTokens} in, ${r.completionTokens} out${r.usageEstimated ? ' (estimated)' : ''}`],
        ['Cost', usd(r.costUsd)],
        ['Latency', `${ms(r.latencyMs)}${r.firstChunkMs !== null && r.firstChunkMs !== undefined ? `, first chunk ${ms(r.firstChunkMs)}` : ''}`],
        ['Budget', r.budgetTier ? `tier ${r.budgetTier}${r.budgetAction ? ` · ${r.budgetAction}` : ''}` : null],
        ['Reserved / left', plan.budget ? `${usd(plan.budget.reservedUsd)} reserved, ${usd(plan.budget.overshootUsd)} over, ${usd(plan.budget.remainingUsd)} left` : null],
        ['Policy version', plan.policyVersion ?? r.policyVersion ?? null],
      ]),
    ),
    el('h3', {}, 'Plan'),
    el('ol', { class: 'route' }, ...(plan.plannedRoute ?? []).map((m: string) => el('li', {}, m, m === plan.requestedModel ? ' (requested)' : ''))),
    plan.qualityFloor ? el('p', {}, `Quality floor: ${floorText(plan.qualityFloor)}`) : null,
    (plan.excluded ?? []).length > 0
      ? el('ul', { class: 'excluded' }, ...plan.excluded.map((x: any) => el('li', {}, `${x.model}${x.requested ? ' (the requested model)' : ''} left out: ${x.reason}`)))
      : null,
    el('h3', {}, 'Attempts'),
    attempts.length === 0
      ? el('p', { class: 'muted' }, 'No attempt: refused before any provider was called.')
      : table(
          ['#', 'Model', 'Provider', 'Outcome', 'Category', 'Status', 'Code', 'Latency', 'Waited', 'Then'],
          attempts.map((a, i) => [
            a.seq + 1,
            a.model,
            a.provider,
            badge(a.outcome, `outcome-${a.outcome}`),
            a.category ?? '–',
            a.status ?? '–',
            a.code ?? '–',
            ms(a.latencyMs),
            a.waitedMs !== null ? ms(a.waitedMs) : '–',
            then(a, attempts[i + 1]),
          ]),
          { class: 'attempts' },
        ),
    el('details', {}, el('summary', {}, 'Raw record'), el('pre', {}, JSON.stringify(r, null, 2))),
  );
}

/** `{ tier: 'premium', capabilities: ['tools'] }` as "tier premium or better, with tools". */
function floorText(floor: { tier?: string; capabilities?: string[] }): string {
  const parts = [floor.tier ? `tier ${floor.tier} or better` : '', floor.capabilities?.length ? `with ${floor.capabilities.join(', ')}` : ''].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : JSON.stringify(floor);
}

/** Why the router moved on after this attempt. */
function then(a: any, next: any): string {
  if (next === undefined) return a.outcome === 'success' ? 'served' : 'gave up';
  const why = a.category ?? a.outcome;
  return next.model === a.model ? `retried after ${why}` : `switched to ${next.model} after ${why}`;
}

function pairs(items: [string, unknown][]): Node[] {
  return items.filter(([, v]) => v !== null && v !== undefined && v !== '').flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]);
}
