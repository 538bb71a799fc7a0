import type { DeferredCall } from '@llm-router/nestjs';
import type { DeferredCallFilter, DeferredCallRows, ListedDeferredCall } from './gateway-store.js';
import { newestFirstRows } from './newest-first-rows.js';
import { storableParams } from './storable-text.js';
import type { ExecuteFn, QueryFn } from './sql-job-rows.js';

type Param = string | number | null;

/**
 * Deferred calls in `llm_deferred_calls`, where every gateway instance reads
 * them: the call as JSON (U+0000 escaped by JSON itself), its tenant and
 * status as columns of their own.
 */
export class SqlDeferredCalls implements DeferredCallRows {
  constructor(
    private readonly query: QueryFn,
    private readonly execute: ExecuteFn,
  ) {}

  async insert(call: DeferredCall): Promise<void> {
    await this.execute(
      'INSERT INTO llm_deferred_calls (id, tenant, status, call, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
      storableParams<Param[]>([call.id, call.tenant ?? null, call.status, JSON.stringify(call), call.createdAt, Date.now()]),
    );
  }

  async get(id: string): Promise<DeferredCall | undefined> {
    const [row] = await this.query('SELECT call FROM llm_deferred_calls WHERE id = ?', storableParams<Param[]>([id]));
    return row ? (JSON.parse(String(row.call)) as DeferredCall) : undefined;
  }

  async save(call: DeferredCall): Promise<void> {
    await this.execute('UPDATE llm_deferred_calls SET status = ?, call = ?, updated_at = ? WHERE id = ?', storableParams<Param[]>([call.status, JSON.stringify(call), Date.now(), call.id]));
  }

  async list(filter: DeferredCallFilter, limit: number, after?: string): Promise<{ calls: ListedDeferredCall[]; hasMore: boolean } | undefined> {
    const rows = await newestFirstRows(this.query, 'llm_deferred_calls', 'call, updated_at', { tenant: filter.tenant, status: filter.status }, limit + 1, after);
    if (rows === undefined) return undefined;
    const calls = rows.slice(0, limit).map((r) => ({ call: JSON.parse(String(r.call)) as DeferredCall, updatedAt: Number(r.updated_at) }));
    return { calls, hasMore: rows.length > limit };
  }
}
