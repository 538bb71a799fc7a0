import type { DeferredCall } from '@llm-router/nestjs';
import type { DeferredCallFilter, DeferredCallRows, ListedDeferredCall } from './gateway-store.js';
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
    const where: string[] = [];
    const params: Param[] = [];
    if (filter.tenant !== undefined) {
      where.push('tenant = ?');
      params.push(filter.tenant);
    }
    if (filter.status !== undefined) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (after !== undefined) {
      const [anchor] = await this.query('SELECT created_at FROM llm_deferred_calls WHERE id = ?', storableParams<Param[]>([after]));
      if (!anchor) return undefined;
      // Strictly older than the anchor in (created_at, id) order: pages never overlap nor skip a call.
      const createdAt = Number(anchor.created_at);
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(createdAt, createdAt, after);
    }
    const rows = await this.query(
      `SELECT call, updated_at FROM llm_deferred_calls ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`,
      storableParams<Param[]>([...params, limit + 1]),
    );
    const calls = rows.slice(0, limit).map((r) => ({ call: JSON.parse(String(r.call)) as DeferredCall, updatedAt: Number(r.updated_at) }));
    return { calls, hasMore: rows.length > limit };
  }
}
