/**
 * The admin API, called with the console's session cookie: the same routes
 * and JSON a script uses with the admin key. A call that changes something
 * carries the session's CSRF token (from the page's meta tag).
 */

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null,
  ) {
    super(message);
  }
}

export async function api<T = any>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const json = await res.json().catch(() => undefined);
  if (res.status === 401) {
    // The session ended (idle, logout elsewhere, gateway restart): back to the login page.
    location.assign('/console/login');
    throw new ApiError('The console session has ended.', 401, 'console_login_required');
  }
  if (!res.ok) throw new ApiError(json?.error?.message ?? `HTTP ${res.status}`, res.status, json?.error?.code ?? null);
  return json as T;
}

/** A query string from the fields that have a value. */
export function query(fields: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== '') params.set(k, String(v));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
