import type { BudgetPeriod } from '@llm-router/nestjs';
import type {
  AdminReportData,
  ReportSeriesData,
  AttemptRow,
  DeadRecord,
  DeferredCallRows,
  RecordCursor,
  RecordFilter,
  StoredRecord,
  GatewayStore,
  JobRows,
  LatencyRow,
  RecordRow,
  ResponseOwner,
  StoredApiKey,
  StoredResponse,
  StoredPolicyVersion,
  StoredConsoleSession,
  StoredTenantBudget,
  TenantUsage,
  TimeRange,
  UsageGroup,
  UsageTotals,
} from './gateway-store.js';
import type { BatchStore } from './batch-store.js';
import type { Dialect } from './migrations.js';
import { SqlBatchStore } from './sql-batch-store.js';
import { SqlDeferredCalls } from './sql-deferred-calls.js';
import { SqlJobRows } from './sql-job-rows.js';
import { storableParams } from './storable-text.js';

type Row = Record<string, unknown>;
type Param = string | number | null;

/** Column order of `llm_routing_records` inserts. */
export const RECORD_COLUMNS = [
  'request_id',
  'started_at',
  'tenant',
  'key_id',
  'feature',
  'session_id',
  'traffic_class',
  'criticality',
  'stream',
  'outcome',
  'error_category',
  'error_message',
  'primary_model',
  'primary_provider',
  'served_model',
  'served_provider',
  'upstream_model',
  'fallback',
  'upstream_calls',
  'prompt_tokens',
  'completion_tokens',
  'usage_estimated',
  'cost_usd',
  'latency_ms',
  'first_chunk_ms',
  'budget_tier',
  'budget_share',
  'budget_action',
  'detail',
  'record_id',
] as const;

export const ATTEMPT_COLUMNS = [
  'request_id',
  'started_at',
  'tenant',
  'traffic_class',
  'seq',
  'model',
  'provider',
  'outcome',
  'category',
  'status',
  'code',
  'latency_ms',
  'waited_ms',
] as const;

/** A record's insert parameters, in RECORD_COLUMNS' order, its text as given (storableParams makes it storable). */
export function recordParams(r: RecordRow): Param[] {
  return [
    r.requestId,
    r.startedAt,
    r.tenant,
    r.keyId,
    r.feature,
    r.session,
    r.trafficClass,
    r.criticality,
    r.stream ? 1 : 0,
    r.outcome,
    r.errorCategory,
    r.errorMessage,
    r.primaryModel,
    r.primaryProvider,
    r.servedModel,
    r.servedProvider,
    r.upstreamModel,
    r.fallback ? 1 : 0,
    r.upstreamCalls,
    r.promptTokens,
    r.completionTokens,
    r.usageEstimated ? 1 : 0,
    r.costUsd,
    r.latencyMs,
    r.firstChunkMs,
    r.budgetTier,
    r.budgetShare,
    r.budgetAction,
    r.detail,
    r.recordId,
  ];
}

/** Its attempts' insert parameters, in ATTEMPT_COLUMNS' order, their text as given. */
export function attemptParams(r: RecordRow): Param[][] {
  return r.attempts.map((a) => [r.requestId, r.startedAt, r.tenant, r.trafficClass, a.seq, a.model, a.provider, a.outcome, a.category, a.status, a.code, a.latencyMs, a.waitedMs]);
}

const TOTALS = `COUNT(*) AS requests,
  SUM(CASE WHEN outcome = 'success' THEN 1 ELSE 0 END) AS succeeded,
  SUM(CASE WHEN outcome = 'success' THEN 0 ELSE 1 END) AS failed,
  SUM(fallback) AS fallbacks,
  SUM(prompt_tokens) AS prompt_tokens,
  SUM(completion_tokens) AS completion_tokens,
  SUM(cost_usd) AS cost_usd`;

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function totalsOf(row: Row | undefined): UsageTotals {
  return {
    requests: num(row?.requests),
    succeeded: num(row?.succeeded),
    failed: num(row?.failed),
    fallbacks: num(row?.fallbacks),
    promptTokens: num(row?.prompt_tokens),
    completionTokens: num(row?.completion_tokens),
    costUsd: num(row?.cost_usd),
  };
}

function groupOf(row: Row): UsageGroup {
  return { key: str(row.k), ...totalsOf(row) };
}

function jsonList(v: unknown): string[] | null {
  if (v === null || v === undefined) return null;
  const parsed = JSON.parse(String(v)) as unknown;
  return Array.isArray(parsed) ? parsed.map(String) : null;
}

function keyOf(row: Row): StoredApiKey {
  return {
    id: String(row.id),
    tenant: String(row.tenant),
    name: str(row.name),
    keyHash: String(row.key_hash),
    allowedClasses: jsonList(row.allowed_classes),
    defaultClass: str(row.default_class),
    allowedModels: jsonList(row.allowed_models),
    budgetUsd: row.budget_usd === null || row.budget_usd === undefined ? null : Number(row.budget_usd),
    budgetPeriod: (str(row.budget_period) as BudgetPeriod | null) ?? null,
    expiresAt: row.expires_at === null || row.expires_at === undefined ? null : Number(row.expires_at),
    revokedAt: row.revoked_at === null || row.revoked_at === undefined ? null : Number(row.revoked_at),
    createdAt: Number(row.created_at),
  };
}

const flag = (v: unknown): boolean => num(v) !== 0;
const optionalNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function recordOf(r: Row): Omit<StoredRecord, 'attempts'> {
  return {
    id: num(r.id),
    // Rows written before migration 3 have none: their row id stands in.
    recordId: str(r.record_id) ?? `row-${num(r.id)}`,
    requestId: String(r.request_id),
    startedAt: num(r.started_at),
    tenant: str(r.tenant),
    keyId: str(r.key_id),
    feature: str(r.feature),
    session: str(r.session_id),
    trafficClass: String(r.traffic_class),
    criticality: str(r.criticality),
    stream: flag(r.stream),
    outcome: String(r.outcome),
    errorCategory: str(r.error_category),
    errorMessage: str(r.error_message),
    primaryModel: str(r.primary_model),
    primaryProvider: str(r.primary_provider),
    servedModel: str(r.served_model),
    servedProvider: str(r.served_provider),
    upstreamModel: str(r.upstream_model),
    fallback: flag(r.fallback),
    upstreamCalls: num(r.upstream_calls),
    promptTokens: num(r.prompt_tokens),
    completionTokens: num(r.completion_tokens),
    usageEstimated: flag(r.usage_estimated),
    costUsd: num(r.cost_usd),
    latencyMs: num(r.latency_ms),
    firstChunkMs: optionalNum(r.first_chunk_ms),
    budgetTier: str(r.budget_tier),
    budgetShare: optionalNum(r.budget_share),
    budgetAction: str(r.budget_action),
    detail: String(r.detail),
  };
}

function responseOf(r: Row): StoredResponse {
  return {
    id: String(r.id),
    tenant: String(r.tenant),
    keyId: String(r.key_id),
    previousResponseId: str(r.previous_response_id),
    createdAt: num(r.created_at),
    inputItems: String(r.input_items),
    response: String(r.response),
  };
}

/** Nearest-rank percentile position: ceil(p/100 * n), in integer arithmetic both dialects share. */
const rank = (p: number) => `(cnt * ${p} + 99) / 100`;

/** Latency percentiles of a group, over rows ranked by latency (`rn`) with the group's size (`cnt`). */
const PERCENTILES = `MAX(cnt) AS n,
  MAX(CASE WHEN rn = ${rank(50)} THEN latency_ms END) AS p50,
  MAX(CASE WHEN rn = ${rank(90)} THEN latency_ms END) AS p90,
  MAX(CASE WHEN rn = ${rank(95)} THEN latency_ms END) AS p95,
  MAX(CASE WHEN rn = ${rank(99)} THEN latency_ms END) AS p99,
  MAX(latency_ms) AS max_ms`;

function latencyRow(r: Row): LatencyRow {
  return { trafficClass: String(r.traffic_class), requests: num(r.n), p50: num(r.p50), p90: num(r.p90), p95: num(r.p95), p99: num(r.p99), max: num(r.max_ms) };
}

/**
 * The SQL both stores share: queries are written once with `?` placeholders
 * (PostgreSQL renumbers them) in the subset of SQL both engines speak,
 * window functions included. Subclasses bring the driver, batched inserts
 * and the migration transaction.
 */
export abstract class SqlGatewayStore implements GatewayStore {
  abstract readonly kind: Dialect;
  /** Batch files, batches and their items, on this store's connection. */
  readonly batches: BatchStore = new SqlBatchStore({ query: (sql, params) => this.query(sql, params), execute: (sql, params) => this.execute(sql, params) });
  readonly jobs: JobRows = new SqlJobRows(
    () => this.kind,
    (sql, params) => this.query(sql, params),
    (sql, params) => this.execute(sql, params),
  );
  readonly deferredCalls: DeferredCallRows = new SqlDeferredCalls(
    (sql, params) => this.query(sql, params),
    (sql, params) => this.execute(sql, params),
  );

  abstract migrate(): Promise<void>;
  abstract ping(): Promise<void>;
  abstract insertRecords(rows: readonly RecordRow[]): Promise<void>;
  abstract close(): Promise<void>;

  protected abstract query(sql: string, params?: readonly Param[]): Promise<Row[]>;
  protected abstract execute(sql: string, params?: readonly Param[]): Promise<number>;

  async searchRecords(filter: RecordFilter, limit: number, cursor?: RecordCursor): Promise<{ records: StoredRecord[]; next?: RecordCursor }> {
    const where = ['started_at >= ?', 'started_at < ?'];
    const params: Param[] = [filter.from, filter.to];
    const equal = (column: string, value: string | undefined) => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      params.push(value);
    };
    equal('tenant', filter.tenant);
    equal('traffic_class', filter.trafficClass);
    equal('key_id', filter.keyId);
    equal('session_id', filter.session);
    equal('outcome', filter.outcome);
    equal('error_category', filter.category);
    if (filter.model !== undefined) {
      where.push('(served_model = ? OR primary_model = ?)');
      params.push(filter.model, filter.model);
    }
    if (filter.fallback !== undefined) where.push(`fallback = ${filter.fallback ? 1 : 0}`);
    if (cursor !== undefined) {
      where.push('(started_at < ? OR (started_at = ? AND id < ?))');
      params.push(cursor.startedAt, cursor.startedAt, cursor.id);
    }
    const rows = await this.query(`SELECT * FROM llm_routing_records WHERE ${where.join(' AND ')} ORDER BY started_at DESC, id DESC LIMIT ?`, [...params, limit + 1]);
    const page = rows.slice(0, limit);
    const records = await this.withAttempts(page);
    const last = records[records.length - 1];
    return rows.length > limit && last ? { records, next: { startedAt: last.startedAt, id: last.id } } : { records };
  }

  async recordsOfRequest(requestId: string): Promise<StoredRecord[]> {
    return this.withAttempts(await this.query('SELECT * FROM llm_routing_records WHERE request_id = ? ORDER BY started_at DESC, id DESC LIMIT 100', [requestId]));
  }

  /** Record rows as StoredRecords, each with its attempts (matched on request id and start time). */
  private async withAttempts(rows: Row[]): Promise<StoredRecord[]> {
    if (rows.length === 0) return [];
    const ids = [...new Set(rows.map((r) => String(r.request_id)))];
    const attempts = await this.query(`SELECT * FROM llm_routing_attempts WHERE request_id IN (${ids.map(() => '?').join(', ')}) ORDER BY seq`, ids);
    const byCall = new Map<string, AttemptRow[]>();
    for (const a of attempts) {
      const call = `${String(a.request_id)}@${num(a.started_at)}`;
      let list = byCall.get(call);
      if (!list) byCall.set(call, (list = []));
      list.push({
        seq: num(a.seq),
        model: String(a.model),
        provider: String(a.provider),
        outcome: String(a.outcome),
        category: str(a.category),
        status: a.status === null || a.status === undefined ? null : num(a.status),
        code: str(a.code),
        latencyMs: num(a.latency_ms),
        waitedMs: a.waited_ms === null || a.waited_ms === undefined ? null : num(a.waited_ms),
      });
    }
    return rows.map((r) => ({ ...recordOf(r), attempts: byCall.get(`${String(r.request_id)}@${num(r.started_at)}`) ?? [] }));
  }

  async insertDeadRecord(row: RecordRow, reason: string, at: number): Promise<void> {
    // JSON.stringify escapes U+0000 as text; the request id and reason are made storable. The journals' marks, values and line are not the row's.
    const json = JSON.stringify(row, (key, value: unknown) => (key === 'journal' || key === 'streamEntry' || key === 'values' || key === 'line' ? undefined : value));
    await this.execute('INSERT INTO llm_dead_records (request_id, failed_at, reason, row_json) VALUES (?, ?, ?, ?)', storableParams([String(row.requestId), at, reason, json]));
  }

  async listDeadRecords(limit: number): Promise<DeadRecord[]> {
    const rows = await this.query('SELECT request_id, failed_at, reason, row_json FROM llm_dead_records ORDER BY failed_at DESC, id DESC LIMIT ?', [limit]);
    return rows.map((r) => ({ requestId: String(r.request_id), failedAt: Number(r.failed_at), reason: String(r.reason), rowJson: String(r.row_json) }));
  }

  async insertKey(key: StoredApiKey): Promise<void> {
    await this.execute(
      `INSERT INTO llm_api_keys (id, tenant, name, key_hash, allowed_classes, default_class, allowed_models, budget_usd, budget_period, expires_at, revoked_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      storableParams([
        key.id,
        key.tenant,
        key.name,
        key.keyHash,
        key.allowedClasses ? JSON.stringify(key.allowedClasses) : null,
        key.defaultClass,
        key.allowedModels ? JSON.stringify(key.allowedModels) : null,
        key.budgetUsd,
        key.budgetPeriod,
        key.expiresAt,
        key.revokedAt,
        key.createdAt,
      ]),
    );
  }

  async listKeys(): Promise<StoredApiKey[]> {
    const rows = await this.query('SELECT * FROM llm_api_keys ORDER BY created_at, id');
    return rows.map(keyOf);
  }

  async revokeKey(id: string, at: number): Promise<boolean> {
    return (await this.execute('UPDATE llm_api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id])) > 0;
  }

  async insertConsoleSession(session: StoredConsoleSession): Promise<void> {
    await this.execute('INSERT INTO llm_console_sessions (id_hash, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?)', [
      session.idHash,
      session.csrfToken,
      session.createdAt,
      session.lastSeenAt,
    ]);
  }

  async findConsoleSession(idHash: string): Promise<StoredConsoleSession | undefined> {
    const [r] = await this.query('SELECT * FROM llm_console_sessions WHERE id_hash = ?', [idHash]);
    return r === undefined ? undefined : { idHash: String(r.id_hash), csrfToken: String(r.csrf_token), createdAt: num(r.created_at), lastSeenAt: num(r.last_seen_at) };
  }

  async touchConsoleSession(idHash: string, at: number): Promise<void> {
    await this.execute('UPDATE llm_console_sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?', [at, idHash, at]);
  }

  async deleteConsoleSession(idHash: string): Promise<void> {
    await this.execute('DELETE FROM llm_console_sessions WHERE id_hash = ?', [idHash]);
  }

  async deleteExpiredConsoleSessions(createdBefore: number, seenBefore: number): Promise<void> {
    await this.execute('DELETE FROM llm_console_sessions WHERE created_at < ? OR last_seen_at < ?', [createdBefore, seenBefore]);
  }

  async upsertTenantBudget(budget: StoredTenantBudget): Promise<void> {
    await this.execute(
      `INSERT INTO llm_tenant_budgets (tenant, setting, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (tenant) DO UPDATE SET setting = excluded.setting, updated_at = excluded.updated_at`,
      storableParams([budget.tenant, JSON.stringify(budget.setting), budget.updatedAt]),
    );
  }

  async appendPolicyVersion(v: StoredPolicyVersion): Promise<boolean> {
    const inserted = await this.execute(
      `INSERT INTO llm_policy_history (seq, hash, source, actor, applied_at, changes, format, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (seq) DO NOTHING`,
      storableParams([v.seq, v.hash, v.source, v.actor, v.appliedAt, v.changes, v.format, v.document]),
    );
    return inserted > 0;
  }

  async latestPolicyVersion(sources?: readonly string[]): Promise<StoredPolicyVersion | undefined> {
    const only = sources === undefined ? '' : ` WHERE source IN (${sources.map(() => '?').join(', ')})`;
    const rows = await this.query(`SELECT * FROM llm_policy_history${only} ORDER BY seq DESC LIMIT 1`, sources ?? []);
    return rows[0] === undefined ? undefined : policyVersionOf(rows[0]);
  }

  async policyHistory(limit: number): Promise<StoredPolicyVersion[]> {
    return (await this.query('SELECT * FROM llm_policy_history ORDER BY seq DESC LIMIT ?', [limit])).map(policyVersionOf);
  }

  async listTenantBudgets(): Promise<StoredTenantBudget[]> {
    const rows = await this.query('SELECT tenant, setting, updated_at FROM llm_tenant_budgets ORDER BY tenant');
    return rows.map((r) => ({ tenant: String(r.tenant), setting: JSON.parse(String(r.setting)) as Record<string, unknown>, updatedAt: Number(r.updated_at) }));
  }

  async spendByTenant(range: TimeRange, criticalities?: readonly string[]): Promise<Map<string, number>> {
    const only = criticalities === undefined ? '' : criticalities.length === 0 ? ' AND 1 = 0' : ` AND criticality IN (${criticalities.map(() => '?').join(', ')})`;
    const rows = await this.query(
      `SELECT tenant AS k, SUM(cost_usd) AS cost FROM llm_routing_records WHERE tenant IS NOT NULL AND started_at >= ? AND started_at < ?${only} GROUP BY tenant`,
      [range.from, range.to, ...(criticalities ?? [])],
    );
    return new Map(rows.map((r) => [String(r.k), num(r.cost)]));
  }

  async spendByKey(range: TimeRange): Promise<Map<string, number>> {
    const rows = await this.query(
      'SELECT key_id AS k, SUM(cost_usd) AS cost FROM llm_routing_records WHERE key_id IS NOT NULL AND started_at >= ? AND started_at < ? GROUP BY key_id',
      [range.from, range.to],
    );
    return new Map(rows.map((r) => [String(r.k), num(r.cost)]));
  }

  async insertResponse(r: StoredResponse): Promise<void> {
    await this.execute(
      'INSERT INTO llm_responses (id, tenant, key_id, previous_response_id, created_at, input_items, response) VALUES (?, ?, ?, ?, ?, ?, ?)',
      storableParams([r.id, r.tenant, r.keyId, r.previousResponseId, r.createdAt, r.inputItems, r.response]),
    );
  }

  async findResponse(id: string, owner: ResponseOwner): Promise<StoredResponse | undefined> {
    const rows = await this.query('SELECT * FROM llm_responses WHERE id = ? AND tenant = ? AND key_id = ?', storableParams([id, owner.tenant, owner.keyId]));
    return rows[0] === undefined ? undefined : responseOf(rows[0]);
  }

  async responseChain(id: string, owner: ResponseOwner, limit: number): Promise<StoredResponse[]> {
    // One recursive query follows the previous_response_id links, each step within the owner's rows.
    const rows = await this.query(
      `WITH RECURSIVE chain (id, tenant, key_id, previous_response_id, created_at, input_items, response, depth) AS (
         SELECT id, tenant, key_id, previous_response_id, created_at, input_items, response, 1 FROM llm_responses WHERE id = ? AND tenant = ? AND key_id = ?
         UNION ALL
         SELECT r.id, r.tenant, r.key_id, r.previous_response_id, r.created_at, r.input_items, r.response, c.depth + 1
         FROM llm_responses r JOIN chain c ON r.id = c.previous_response_id
         WHERE r.tenant = ? AND r.key_id = ? AND c.depth < ?
       )
       SELECT * FROM chain ORDER BY depth DESC`,
      storableParams([id, owner.tenant, owner.keyId, owner.tenant, owner.keyId, limit]),
    );
    return rows.map(responseOf);
  }

  async deleteResponse(id: string, owner: ResponseOwner): Promise<boolean> {
    return (await this.execute('DELETE FROM llm_responses WHERE id = ? AND tenant = ? AND key_id = ?', storableParams([id, owner.tenant, owner.keyId]))) > 0;
  }

  async tenantUsage(tenant: string, range: TimeRange): Promise<TenantUsage> {
    const where = 'WHERE tenant = ? AND started_at >= ? AND started_at < ?';
    const params = [tenant, range.from, range.to];
    const grouped = (expr: string) =>
      this.query(`SELECT ${expr} AS k, ${TOTALS} FROM llm_routing_records ${where} GROUP BY ${expr} ORDER BY (${expr} IS NULL), ${expr}`, params).then((rows) => rows.map(groupOf));
    const [totals, byDay, byClass, byFeature, byModel, byKey] = await Promise.all([
      this.query(`SELECT ${TOTALS} FROM llm_routing_records ${where}`, params),
      this.query(`SELECT started_at / 86400000 AS k, ${TOTALS} FROM llm_routing_records ${where} GROUP BY started_at / 86400000 ORDER BY 1`, params),
      grouped('traffic_class'),
      grouped('feature'),
      grouped('served_model'),
      grouped('key_id'),
    ]);
    return {
      totals: totalsOf(totals[0]),
      byDay: byDay.map((r) => ({ ...groupOf(r), key: new Date(num(r.k) * 86_400_000).toISOString().slice(0, 10) })),
      byClass,
      byFeature,
      byModel,
      byKey,
    };
  }

  async usageBySession(tenant: string, range: TimeRange, limit: number): Promise<UsageGroup[]> {
    const rows = await this.query(
      `SELECT session_id AS k, ${TOTALS} FROM llm_routing_records WHERE tenant = ? AND started_at >= ? AND started_at < ? AND session_id IS NOT NULL
       GROUP BY session_id ORDER BY SUM(cost_usd) DESC, session_id LIMIT ${Math.max(1, Math.floor(limit))}`,
      [tenant, range.from, range.to],
    );
    return rows.map(groupOf);
  }

  async adminReport(range: TimeRange): Promise<AdminReportData> {
    const p = [range.from, range.to];
    const inRange = 'started_at >= ? AND started_at < ?';
    const [
      totals,
      fallbackByClass,
      fallbackByPrimaryProvider,
      servedAfterFallback,
      attemptFailures,
      requestFailures,
      costByTenant,
      costByClass,
      costByModel,
      costByKey,
      latency,
      floorRefusals,
      budgetRefusals,
      budgetActions,
    ] = await Promise.all([
      this.query(`SELECT ${TOTALS} FROM llm_routing_records WHERE ${inRange}`, p),
      this.query(
        `SELECT traffic_class AS k, COUNT(*) AS requests, SUM(fallback) AS fallbacks FROM llm_routing_records WHERE ${inRange} GROUP BY traffic_class ORDER BY traffic_class`,
        p,
      ),
      this.query(
        `SELECT primary_provider AS k, COUNT(*) AS requests, SUM(fallback) AS fallbacks FROM llm_routing_records
         WHERE ${inRange} AND primary_provider IS NOT NULL GROUP BY primary_provider ORDER BY primary_provider`,
        p,
      ),
      this.query(
        `SELECT served_provider AS k, COUNT(*) AS n FROM llm_routing_records WHERE ${inRange} AND fallback = 1 GROUP BY served_provider ORDER BY served_provider`,
        p,
      ),
      this.query(
        `SELECT provider, COALESCE(category, 'unknown') AS category, COUNT(*) AS n FROM llm_routing_attempts
         WHERE ${inRange} AND outcome <> 'success' GROUP BY provider, COALESCE(category, 'unknown') ORDER BY provider, 2`,
        p,
      ),
      this.query(
        `SELECT COALESCE(error_category, 'unknown') AS k, COUNT(*) AS n FROM llm_routing_records WHERE ${inRange} AND outcome <> 'success'
         GROUP BY COALESCE(error_category, 'unknown') ORDER BY 1`,
        p,
      ),
      this.query(`SELECT tenant AS k, SUM(cost_usd) AS cost, COUNT(*) AS n FROM llm_routing_records WHERE ${inRange} GROUP BY tenant ORDER BY 2 DESC, 1`, p),
      this.query(
        `SELECT traffic_class AS k, SUM(cost_usd) AS cost, COUNT(*) AS n FROM llm_routing_records WHERE ${inRange} GROUP BY traffic_class ORDER BY 2 DESC, 1`,
        p,
      ),
      this.query(
        `SELECT served_model AS k, SUM(cost_usd) AS cost, COUNT(*) AS n FROM llm_routing_records WHERE ${inRange} AND served_model IS NOT NULL
         GROUP BY served_model ORDER BY 2 DESC, 1`,
        p,
      ),
      this.query(`SELECT key_id AS k, SUM(cost_usd) AS cost, COUNT(*) AS n FROM llm_routing_records WHERE ${inRange} GROUP BY key_id ORDER BY 2 DESC, 1`, p),
      this.query(
        `SELECT traffic_class, ${PERCENTILES}
         FROM (
           SELECT traffic_class, latency_ms,
             ROW_NUMBER() OVER (PARTITION BY traffic_class ORDER BY latency_ms) AS rn,
             COUNT(*) OVER (PARTITION BY traffic_class) AS cnt
           FROM llm_routing_records WHERE ${inRange} AND outcome = 'success'
         ) ranked
         GROUP BY traffic_class ORDER BY traffic_class`,
        p,
      ),
      this.query(
        `SELECT tenant, traffic_class, COUNT(*) AS n FROM llm_routing_records WHERE ${inRange} AND error_category = 'quality_floor_unmet'
         GROUP BY tenant, traffic_class ORDER BY 3 DESC, 1, 2`,
        p,
      ),
      this.query(
        `SELECT tenant, traffic_class, error_category, COUNT(*) AS n FROM llm_routing_records
         WHERE ${inRange} AND error_category IN ('budget_exhausted', 'budget_reservation_denied', 'budget_unavailable')
         GROUP BY tenant, traffic_class, error_category ORDER BY 4 DESC, 1, 2`,
        p,
      ),
      this.query(
        `SELECT tenant, budget_tier, budget_action, COUNT(*) AS n FROM llm_routing_records WHERE ${inRange} AND budget_action IS NOT NULL
         GROUP BY tenant, budget_tier, budget_action ORDER BY 4 DESC, 1`,
        p,
      ),
    ]);
    const cost = (rows: Row[]) => rows.map((r) => ({ key: str(r.k), costUsd: num(r.cost), requests: num(r.n) }));
    const refusals = (rows: Row[]) =>
      rows.map((r) => ({ tenant: str(r.tenant), trafficClass: String(r.traffic_class), ...(r.error_category ? { category: String(r.error_category) } : {}), count: num(r.n) }));
    return {
      totals: totalsOf(totals[0]),
      fallbackByClass: fallbackByClass.map((r) => ({ key: str(r.k), requests: num(r.requests), fallbacks: num(r.fallbacks) })),
      fallbackByPrimaryProvider: fallbackByPrimaryProvider.map((r) => ({ key: str(r.k), requests: num(r.requests), fallbacks: num(r.fallbacks) })),
      servedByProviderAfterFallback: servedAfterFallback.map((r) => ({ key: str(r.k), count: num(r.n) })),
      attemptFailures: attemptFailures.map((r) => ({ provider: String(r.provider), category: String(r.category), count: num(r.n) })),
      requestFailures: requestFailures.map((r) => ({ category: String(r.k), count: num(r.n) })),
      costByTenant: cost(costByTenant),
      costByClass: cost(costByClass),
      costByModel: cost(costByModel),
      costByKey: cost(costByKey),
      latencyByClass: latency.map(latencyRow),
      qualityFloorRefusals: refusals(floorRefusals),
      budgetRefusals: refusals(budgetRefusals),
      budgetActions: budgetActions.map((r) => ({ tenant: str(r.tenant), tier: str(r.budget_tier), action: String(r.budget_action), count: num(r.n) })),
    };
  }

  async reportSeries(range: TimeRange, bucketMs: number): Promise<ReportSeriesData> {
    // The bucket's index from the range's start. The cast: SQLite binds a JS number as REAL, and its division would not truncate.
    const bucket = 'CAST((started_at - ?) / ? AS INTEGER)';
    const p = [range.from, bucketMs, range.from, range.to];
    const inRange = 'started_at >= ? AND started_at < ?';
    const [records, attempts, latency] = await Promise.all([
      this.query(
        `SELECT ${bucket} AS b, traffic_class, primary_provider, served_model, tenant, key_id, outcome, error_category, fallback, COUNT(*) AS n, SUM(cost_usd) AS cost
         FROM llm_routing_records WHERE ${inRange} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9`,
        p,
      ),
      this.query(
        `SELECT ${bucket} AS b, provider, COALESCE(category, 'unknown') AS category, COUNT(*) AS n FROM llm_routing_attempts
         WHERE ${inRange} AND outcome <> 'success' GROUP BY 1, 2, 3`,
        p,
      ),
      this.query(
        `SELECT b, traffic_class, ${PERCENTILES}
         FROM (
           SELECT b, traffic_class, latency_ms,
             ROW_NUMBER() OVER (PARTITION BY b, traffic_class ORDER BY latency_ms) AS rn,
             COUNT(*) OVER (PARTITION BY b, traffic_class) AS cnt
           FROM (SELECT ${bucket} AS b, traffic_class, latency_ms FROM llm_routing_records WHERE ${inRange} AND outcome = 'success') bucketed
         ) ranked
         GROUP BY b, traffic_class ORDER BY b, traffic_class`,
        p,
      ),
    ]);
    return {
      records: records.map((r) => ({
        bucket: num(r.b),
        trafficClass: String(r.traffic_class),
        primaryProvider: str(r.primary_provider),
        servedModel: str(r.served_model),
        tenant: str(r.tenant),
        keyId: str(r.key_id),
        outcome: String(r.outcome),
        errorCategory: str(r.error_category),
        fallback: num(r.fallback) === 1,
        requests: num(r.n),
        costUsd: num(r.cost),
      })),
      attemptFailures: attempts.map((r) => ({ bucket: num(r.b), provider: String(r.provider), category: String(r.category), count: num(r.n) })),
      latencyByClass: latency.map((r) => ({ bucket: num(r.b), ...latencyRow(r) })),
    };
  }
}

function policyVersionOf(r: Row): StoredPolicyVersion {
  return {
    seq: Number(r.seq),
    hash: String(r.hash),
    source: String(r.source),
    actor: r.actor === null || r.actor === undefined ? null : String(r.actor),
    appliedAt: Number(r.applied_at),
    changes: String(r.changes),
    format: r.format === 'json' ? 'json' : 'yaml',
    document: String(r.document),
  };
}
