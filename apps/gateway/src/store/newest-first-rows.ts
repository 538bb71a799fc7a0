import { storableParams } from './storable-text.js';
import type { QueryFn } from './sql-job-rows.js';

type Param = string | number | null;

/**
 * One page of an admin listing over a table keyed by `id` with `created_at`:
 * rows whose columns equal the given values (an undefined value filters
 * nothing), newest first by (created_at, id), `limit` at most, strictly
 * after the row `after`, so pages never overlap nor skip a row. Undefined
 * when `after` names no row. `table` and the column names are the caller's
 * constants, never input.
 */
export async function newestFirstRows(
  query: QueryFn,
  table: string,
  select: string,
  equal: Readonly<Record<string, string | undefined>>,
  limit: number,
  after?: string,
): Promise<Record<string, unknown>[] | undefined> {
  const where: string[] = [];
  const params: Param[] = [];
  for (const [column, value] of Object.entries(equal)) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  if (after !== undefined) {
    const [anchor] = await query(`SELECT created_at FROM ${table} WHERE id = ?`, storableParams<Param[]>([after]));
    if (!anchor) return undefined;
    const createdAt = Number(anchor.created_at);
    where.push('(created_at < ? OR (created_at = ? AND id < ?))');
    params.push(createdAt, createdAt, after);
  }
  return query(
    `SELECT ${select} FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?`,
    storableParams<Param[]>([...params, limit]),
  );
}
