import type { JobState, NewJob } from '@llm-router/nestjs';
import type { ClaimedJob, JobRows, JobSettlement } from './gateway-store.js';
import type { Dialect } from './migrations.js';
import { storableParams } from './storable-text.js';

type Row = Record<string, unknown>;
type Param = string | number | null;
export type QueryFn = (sql: string, params?: readonly Param[]) => Promise<Row[]>;
export type ExecuteFn = (sql: string, params?: readonly Param[]) => Promise<number>;

/** Jobs per INSERT statement (5 parameters each: well under either engine's limit). */
const JOBS_PER_STATEMENT = 200;

/**
 * The work queue's rows in `llm_jobs`, in SQL both engines speak. A claim is
 * one UPDATE ... RETURNING over the due rows (pending and due, or active with
 * a lapsed lease): atomic on SQLite (one writer at a time), and on PostgreSQL
 * its sub-select takes the rows FOR UPDATE SKIP LOCKED, so concurrent
 * claimers split the due jobs instead of waiting on each other.
 */
export class SqlJobRows implements JobRows {
  private claimSql?: string;

  /** `dialect` is asked on first use (the store's kind is set after its base class builds this). */
  constructor(
    private readonly dialect: () => Dialect,
    private readonly query: QueryFn,
    private readonly execute: ExecuteFn,
  ) {}

  private claimStatement(): string {
    return (this.claimSql ??= `UPDATE llm_jobs SET state = 'active', attempt = attempt + 1, lease_token = ?, lease_until = ?, updated_at = ?
      WHERE queue = ? AND id IN (
        SELECT id FROM llm_jobs
        WHERE queue = ? AND ((state = 'pending' AND run_at <= ?) OR (state = 'active' AND lease_until <= ?))
        ORDER BY run_at LIMIT ?${this.dialect() === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : ''}
      )
      RETURNING id, data, attempt`);
  }

  async insert(queue: string, jobs: readonly NewJob<unknown>[], now: number): Promise<void> {
    for (let i = 0; i < jobs.length; i += JOBS_PER_STATEMENT) {
      const slice = jobs.slice(i, i + JOBS_PER_STATEMENT);
      const params = slice.flatMap((j) => storableParams<Param[]>([queue, j.id, JSON.stringify(j.data ?? null), j.runAt ?? now, now]));
      const tuples = slice.map(() => `(?, ?, ?, 'pending', ?, 0, ?)`).join(', ');
      await this.execute(`INSERT INTO llm_jobs (queue, id, data, state, run_at, attempt, updated_at) VALUES ${tuples} ON CONFLICT (queue, id) DO NOTHING`, params);
    }
  }

  async claim(queue: string, limit: number, leaseToken: string, leaseUntil: number, now: number): Promise<ClaimedJob[]> {
    const rows = await this.query(this.claimStatement(), storableParams<Param[]>([leaseToken, leaseUntil, now, queue, queue, now, now, limit]));
    return rows.map((r) => ({ id: String(r.id), data: JSON.parse(String(r.data)) as unknown, attempt: Number(r.attempt) }));
  }

  async renew(queue: string, id: string, leaseToken: string, leaseUntil: number): Promise<boolean> {
    const changed = await this.execute(
      `UPDATE llm_jobs SET lease_until = ? WHERE queue = ? AND id = ? AND state = 'active' AND lease_token = ?`,
      storableParams<Param[]>([leaseUntil, queue, id, leaseToken]),
    );
    return changed > 0;
  }

  async settle(queue: string, id: string, leaseToken: string, settlement: JobSettlement, now: number): Promise<boolean> {
    const state = settlement.kind === 'later' ? 'pending' : settlement.kind;
    const runAt = settlement.kind === 'later' ? settlement.runAt : now;
    const reason = settlement.kind === 'done' ? null : settlement.reason;
    const changed = await this.execute(
      `UPDATE llm_jobs SET state = ?, run_at = ?, reason = ?, lease_token = NULL, lease_until = NULL, updated_at = ?
       WHERE queue = ? AND id = ? AND state = 'active' AND lease_token = ?`,
      storableParams<Param[]>([state, runAt, reason, now, queue, id, leaseToken]),
    );
    return changed > 0;
  }

  async promote(queue: string, id: string, now: number): Promise<boolean> {
    const changed = await this.execute(
      `UPDATE llm_jobs SET run_at = ?, updated_at = ? WHERE queue = ? AND id = ? AND state = 'pending' AND run_at > ?`,
      storableParams<Param[]>([now, now, queue, id, now]),
    );
    return changed > 0;
  }

  async remove(queue: string, id: string): Promise<boolean> {
    return (await this.execute(`DELETE FROM llm_jobs WHERE queue = ? AND id = ? AND state <> 'active'`, storableParams<Param[]>([queue, id]))) > 0;
  }

  async state(queue: string, id: string, now: number): Promise<JobState | undefined> {
    const [row] = await this.query('SELECT state, run_at, lease_until FROM llm_jobs WHERE queue = ? AND id = ?', storableParams<Param[]>([queue, id]));
    if (!row) return undefined;
    const state = String(row.state);
    if (state === 'pending') return Number(row.run_at) > now ? 'delayed' : 'waiting';
    // A lapsed lease: its worker is gone and the job waits for another.
    if (state === 'active') return Number(row.lease_until) > now ? 'active' : 'waiting';
    return state as JobState;
  }

  async purgeFinished(before: number): Promise<number> {
    return this.execute(`DELETE FROM llm_jobs WHERE state IN ('done', 'failed') AND updated_at < ?`, [before]);
  }
}
