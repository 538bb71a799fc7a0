/** Keys: the API keys (GET /admin/keys), create one (its secret shown once), revoke one. */
import { api, ApiError } from './api.js';
import { el, replace } from './dom.js';
import { dateTime, usd } from './format.js';
import { badge, empty, field, heading, row, table, type PageFactory } from './page.js';

export const keysPage: PageFactory = (root) => {
  const tenant = el('input', { id: 'k-tenant', name: 'tenant', required: true, autocomplete: 'off' });
  const name = el('input', { id: 'k-name', name: 'name', autocomplete: 'off' });
  const classes = el('input', { id: 'k-classes', name: 'allowedClasses', placeholder: 'every class', autocomplete: 'off' });
  const budget = el('input', { id: 'k-budget', name: 'budgetUsd', type: 'number', min: '0', step: 'any', placeholder: 'none' });
  const days = el('input', { id: 'k-days', name: 'expiresInDays', type: 'number', min: '1', step: '1', placeholder: 'never' });
  const created = el('div', { id: 'created-key' });
  const list = el('div');
  const formError = el('p', { class: 'error', role: 'alert' });

  const create = async (e: Event) => {
    e.preventDefault();
    replace(formError);
    const body: Record<string, unknown> = { tenant: tenant.value.trim() };
    if (name.value.trim()) body.name = name.value.trim();
    const allowed = classes.value.split(',').map((c) => c.trim()).filter(Boolean);
    if (allowed.length > 0) body.allowedClasses = allowed;
    if (budget.value) body.budget = { budgetUsd: Number(budget.value) };
    if (days.value) body.expiresInSeconds = Number(days.value) * 86_400;
    try {
      const key = await api('/admin/keys', { method: 'POST', body });
      const secret = el('input', { id: 'new-secret', readonly: true, value: key.key, size: 64, 'aria-label': 'The new key' });
      replace(
        created,
        el(
          'div',
          { class: 'card secret', role: 'status' },
          el('h2', {}, 'Key ', el('code', {}, key.id), ' created for ', key.tenant),
          el('p', {}, 'Store it now: it is shown this once only and cannot be recovered.'),
          secret,
          ' ',
          el('button', { type: 'button', onclick: () => void navigator.clipboard?.writeText(key.key) }, 'Copy'),
          ' ',
          el('button', { type: 'button', onclick: () => replace(created) }, 'Done'),
        ),
      );
      secret.focus();
      secret.select();
      form.reset();
      await page.refresh();
    } catch (err) {
      replace(formError, err instanceof ApiError ? err.message : String(err));
    }
  };

  const form = el(
    'form',
    { class: 'filters', onsubmit: create, 'aria-label': 'Create an API key' },
    field('Tenant', tenant),
    field('Name', name),
    field('Allowed classes (comma-separated)', classes),
    field('Key budget, USD per month', budget),
    field('Expires in (days)', days),
    el('button', { type: 'submit' }, 'Create key'),
  );
  root.append(heading('Keys'), el('h2', {}, 'Create'), form, formError, created, el('h2', {}, 'All keys'), list);

  const page = {
    everyMs: 10_000,
    async refresh() {
      const keys = (await api('/admin/keys')).data as any[];
      if (keys.length === 0) return replace(list, empty('No API key yet.'));
      replace(list, keysTable(keys, page.refresh));
    },
  };
  return page;
};

function keysTable(keys: any[], refresh: () => Promise<void>): HTMLTableElement {
  return table(
    ['Id', 'Tenant', 'Name', 'Status', 'Classes', 'Models', 'Budget', 'Created', 'Expires', ''],
    keys.map((k) =>
      row({ 'data-key-id': k.id }, [
        el('code', {}, k.id),
        k.tenant,
        k.name ?? '–',
        badge(k.status, `key-${k.status}`),
        k.allowedClasses?.join(', ') ?? 'all',
        k.allowedModels?.join(', ') ?? 'all',
        k.budget ? `${usd(k.budget.budgetUsd)} / ${k.budget.period}` : '–',
        dateTime(k.createdAt),
        k.expiresAt ? dateTime(k.expiresAt) : 'never',
        k.status === 'active' ? revokeButton(k, refresh) : k.revokedAt ? `revoked ${dateTime(k.revokedAt)}` : '',
      ]),
    ),
    { id: 'keys' },
  );
}

/** Two steps, so a stray click or Enter revokes nothing. */
function revokeButton(key: any, refresh: () => Promise<void>): HTMLButtonElement {
  let armed = false;
  const button: HTMLButtonElement = el(
    'button',
    {
      type: 'button',
      class: 'danger',
      'aria-label': `Revoke key ${key.id}`,
      onclick: async () => {
        if (!armed) {
          armed = true;
          button.textContent = `Confirm: revoke ${key.id}`;
          return;
        }
        button.disabled = true;
        await api(`/admin/keys/${encodeURIComponent(key.id)}/revoke`, { method: 'POST' });
        await refresh();
      },
    },
    'Revoke',
  );
  return button;
}

