import type { DeferredCall, DeferredCallStore } from '@llm-router/nestjs';
import { storableParams } from './storable-text.js';
import type { ExecuteFn, QueryFn } from './sql-job-rows.js';

type Param = string | number | null;

/**
 * Deferred calls in `llm_deferred_calls`, where every gateway instance reads
 * them: the call as JSON (U+0000 escaped by JSON itself), its tenant and
 * status as columns of their own.
 */
export class SqlDeferredCalls implements DeferredCallStore {
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
}
