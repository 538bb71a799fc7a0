import type {
  BatchFilter,
  BatchItemStatus,
  BatchLineError,
  BatchPause,
  BatchStatus,
  BatchStatusTimes,
  BatchStore,
  NewBatchItem,
  StoredBatch,
  StoredBatchItem,
  StoredFile,
} from './batch-store.js';
import { newestFirstRows } from './newest-first-rows.js';
import { storableParams } from './storable-text.js';

type Row = Record<string, unknown>;
type Param = string | number | null;

/** The store's connection, as the batch tables use it (`?` placeholders in both dialects). */
export interface SqlRunner {
  query(sql: string, params?: readonly Param[]): Promise<Row[]>;
  execute(sql: string, params?: readonly Param[]): Promise<number>;
}

/** Item rows per INSERT statement: 4 parameters each, well under both engines' limits. */
const ITEMS_PER_STATEMENT = 500;

const TIME_COLUMNS: Record<keyof BatchStatusTimes, string> = {
  inProgressAt: 'in_progress_at',
  finalizingAt: 'finalizing_at',
  completedAt: 'completed_at',
  failedAt: 'failed_at',
  expiredAt: 'expired_at',
  cancellingAt: 'cancelling_at',
  cancelledAt: 'cancelled_at',
};

const optionalNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const optionalStr = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function fileOf(r: Row): StoredFile {
  return { id: String(r.id), tenant: String(r.tenant), purpose: String(r.purpose) as StoredFile['purpose'], filename: String(r.filename), bytes: Number(r.bytes), createdAt: Number(r.created_at) };
}

function batchOf(r: Row): StoredBatch {
  const pausedAt = optionalNum(r.paused_at);
  return {
    id: String(r.id),
    tenant: String(r.tenant),
    keyId: optionalStr(r.key_id),
    endpoint: String(r.endpoint),
    inputFileId: String(r.input_file_id),
    completionWindow: String(r.completion_window),
    trafficClass: String(r.traffic_class),
    status: String(r.status) as BatchStatus,
    metadata: r.metadata === null || r.metadata === undefined ? null : (JSON.parse(String(r.metadata)) as Record<string, string>),
    errors: r.errors === null || r.errors === undefined ? null : (JSON.parse(String(r.errors)) as BatchLineError[]),
    total: Number(r.total),
    outputFileId: optionalStr(r.output_file_id),
    errorFileId: optionalStr(r.error_file_id),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    inProgressAt: optionalNum(r.in_progress_at),
    finalizingAt: optionalNum(r.finalizing_at),
    completedAt: optionalNum(r.completed_at),
    failedAt: optionalNum(r.failed_at),
    expiredAt: optionalNum(r.expired_at),
    cancellingAt: optionalNum(r.cancelling_at),
    cancelledAt: optionalNum(r.cancelled_at),
    pause:
      pausedAt === null
        ? null
        : { reason: String(r.paused_reason), message: String(r.paused_message), pausedAt, resumeAt: Number(r.resume_at) },
  };
}

function itemOf(r: Row): StoredBatchItem {
  return {
    customId: String(r.custom_id),
    line: Number(r.line),
    body: String(r.body),
    status: String(r.status) as BatchItemStatus,
    result: optionalStr(r.result),
  };
}

const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** The batch tables on either SQL store: the same statements for SQLite and PostgreSQL. */
export class SqlBatchStore implements BatchStore {
  constructor(private readonly sql: SqlRunner) {}

  async insertFile(file: StoredFile, content: string): Promise<void> {
    await this.sql.execute(
      'INSERT INTO llm_files (id, tenant, purpose, filename, bytes, created_at, content) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
      storableParams([file.id, file.tenant, file.purpose, file.filename, file.bytes, file.createdAt, content]),
    );
  }

  async getFile(tenant: string, id: string): Promise<StoredFile | undefined> {
    const rows = await this.sql.query('SELECT id, tenant, purpose, filename, bytes, created_at FROM llm_files WHERE id = ? AND tenant = ? AND deleted_at IS NULL', [id, tenant]);
    return rows[0] ? fileOf(rows[0]) : undefined;
  }

  async listFiles(tenant: string, limit: number, purpose?: string, after?: string): Promise<StoredFile[]> {
    const where = ['f.tenant = ?', 'f.deleted_at IS NULL'];
    const params: Param[] = [tenant];
    if (purpose !== undefined) {
      where.push('f.purpose = ?');
      params.push(purpose);
    }
    if (after !== undefined) {
      where.push('EXISTS (SELECT 1 FROM llm_files c WHERE c.id = ? AND c.tenant = f.tenant AND (f.created_at < c.created_at OR (f.created_at = c.created_at AND f.id < c.id)))');
      params.push(after);
    }
    const rows = await this.sql.query(
      `SELECT f.id, f.tenant, f.purpose, f.filename, f.bytes, f.created_at FROM llm_files f WHERE ${where.join(' AND ')} ORDER BY f.created_at DESC, f.id DESC LIMIT ?`,
      storableParams([...params, limit]),
    );
    return rows.map(fileOf);
  }

  async fileContent(tenant: string, id: string): Promise<string | undefined> {
    const rows = await this.sql.query('SELECT content FROM llm_files WHERE id = ? AND tenant = ? AND deleted_at IS NULL', [id, tenant]);
    return rows[0] ? String(rows[0].content) : undefined;
  }

  async deleteFile(tenant: string, id: string, at: number): Promise<boolean> {
    return (await this.sql.execute('UPDATE llm_files SET deleted_at = ?, content = NULL WHERE id = ? AND tenant = ? AND deleted_at IS NULL', [at, id, tenant])) > 0;
  }

  async insertBatch(batch: StoredBatch, items: readonly NewBatchItem[]): Promise<void> {
    for (let i = 0; i < items.length; i += ITEMS_PER_STATEMENT) {
      const slice = items.slice(i, i + ITEMS_PER_STATEMENT);
      const params: Param[] = [];
      for (const item of slice) params.push(batch.id, item.customId, item.line, item.body);
      await this.sql.execute(
        `INSERT INTO llm_batch_items (batch_id, custom_id, line, body, status) VALUES ${slice.map(() => "(?, ?, ?, ?, 'pending')").join(', ')}
         ON CONFLICT (batch_id, custom_id) DO NOTHING`,
        storableParams(params),
      );
    }
    await this.sql.execute(
      `INSERT INTO llm_batches (id, tenant, key_id, endpoint, input_file_id, completion_window, traffic_class, status, metadata, errors, total,
         output_file_id, error_file_id, created_at, expires_at, in_progress_at, failed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      storableParams([
        batch.id,
        batch.tenant,
        batch.keyId,
        batch.endpoint,
        batch.inputFileId,
        batch.completionWindow,
        batch.trafficClass,
        batch.status,
        batch.metadata === null ? null : JSON.stringify(batch.metadata),
        batch.errors === null ? null : JSON.stringify(batch.errors),
        batch.total,
        batch.outputFileId,
        batch.errorFileId,
        batch.createdAt,
        batch.expiresAt,
        batch.inProgressAt,
        batch.failedAt,
      ]),
    );
  }

  async getBatch(id: string): Promise<StoredBatch | undefined> {
    const rows = await this.sql.query('SELECT * FROM llm_batches WHERE id = ?', [id]);
    return rows[0] ? batchOf(rows[0]) : undefined;
  }

  async listBatches(tenant: string, limit: number, after?: string): Promise<StoredBatch[]> {
    if (after === undefined) {
      return (await this.sql.query('SELECT * FROM llm_batches WHERE tenant = ? ORDER BY created_at DESC, id DESC LIMIT ?', [tenant, limit])).map(batchOf);
    }
    const rows = await this.sql.query(
      `SELECT b.* FROM llm_batches b, llm_batches c WHERE c.id = ? AND c.tenant = ? AND b.tenant = ?
         AND (b.created_at < c.created_at OR (b.created_at = c.created_at AND b.id < c.id))
       ORDER BY b.created_at DESC, b.id DESC LIMIT ?`,
      [after, tenant, tenant, limit],
    );
    return rows.map(batchOf);
  }

  async searchBatches(filter: BatchFilter, limit: number, after?: string): Promise<StoredBatch[] | undefined> {
    const rows = await newestFirstRows((sql, params) => this.sql.query(sql, params), 'llm_batches', '*', { tenant: filter.tenant, status: filter.status }, limit, after);
    return rows?.map(batchOf);
  }

  async batchesIn(statuses: readonly BatchStatus[]): Promise<StoredBatch[]> {
    return (await this.sql.query(`SELECT * FROM llm_batches WHERE status IN (${marks(statuses.length)}) ORDER BY created_at`, [...statuses])).map(batchOf);
  }

  async moveBatch(
    id: string,
    from: readonly BatchStatus[],
    to: BatchStatus,
    times: BatchStatusTimes,
    files?: { outputFileId: string | null; errorFileId: string | null },
  ): Promise<boolean> {
    const sets = ['status = ?'];
    const params: Param[] = [to];
    for (const [field, at] of Object.entries(times) as [keyof BatchStatusTimes, number | null][]) {
      sets.push(`${TIME_COLUMNS[field]} = ?`);
      params.push(at);
    }
    if (files) {
      sets.push('output_file_id = ?', 'error_file_id = ?');
      params.push(files.outputFileId, files.errorFileId);
    }
    // A batch that is no longer in progress is no longer paused.
    if (to !== 'in_progress') sets.push('paused_reason = NULL', 'paused_message = NULL', 'paused_at = NULL', 'resume_at = NULL');
    return (await this.sql.execute(`UPDATE llm_batches SET ${sets.join(', ')} WHERE id = ? AND status IN (${marks(from.length)})`, [...params, id, ...from])) > 0;
  }

  async setPause(id: string, pause: BatchPause | null): Promise<boolean> {
    if (pause === null) {
      return (await this.sql.execute('UPDATE llm_batches SET paused_reason = NULL, paused_message = NULL, paused_at = NULL, resume_at = NULL WHERE id = ? AND paused_at IS NOT NULL', [id])) > 0;
    }
    return (
      (await this.sql.execute(
        "UPDATE llm_batches SET paused_reason = ?, paused_message = ?, paused_at = ?, resume_at = ? WHERE id = ? AND status = 'in_progress'",
        storableParams([pause.reason, pause.message, pause.pausedAt, pause.resumeAt, id]),
      )) > 0
    );
  }

  async getItem(batchId: string, customId: string): Promise<StoredBatchItem | undefined> {
    const rows = await this.sql.query('SELECT * FROM llm_batch_items WHERE batch_id = ? AND custom_id = ?', storableParams([batchId, customId]));
    return rows[0] ? itemOf(rows[0]) : undefined;
  }

  async itemCounts(batchId: string): Promise<Record<BatchItemStatus, number>> {
    const counts: Record<BatchItemStatus, number> = { pending: 0, succeeded: 0, failed: 0, cancelled: 0, expired: 0 };
    for (const r of await this.sql.query('SELECT status, COUNT(*) AS n FROM llm_batch_items WHERE batch_id = ? GROUP BY status', [batchId])) {
      counts[String(r.status) as BatchItemStatus] = Number(r.n);
    }
    return counts;
  }

  async hasPending(batchId: string): Promise<boolean> {
    return (await this.sql.query("SELECT 1 AS one FROM llm_batch_items WHERE batch_id = ? AND status = 'pending' LIMIT 1", [batchId])).length > 0;
  }

  async pendingItemIds(batchId: string): Promise<string[]> {
    return (await this.sql.query("SELECT custom_id FROM llm_batch_items WHERE batch_id = ? AND status = 'pending' ORDER BY line", [batchId])).map((r) => String(r.custom_id));
  }

  async finishItem(batchId: string, customId: string, status: Exclude<BatchItemStatus, 'pending'>, result: string, at: number): Promise<boolean> {
    return (
      (await this.sql.execute(
        "UPDATE llm_batch_items SET status = ?, result = ?, finished_at = ? WHERE batch_id = ? AND custom_id = ? AND status = 'pending'",
        storableParams([status, result, at, batchId, customId]),
      )) > 0
    );
  }

  async finishedItems(batchId: string): Promise<StoredBatchItem[]> {
    return (await this.sql.query("SELECT * FROM llm_batch_items WHERE batch_id = ? AND status <> 'pending' ORDER BY line", [batchId])).map(itemOf);
  }
}
