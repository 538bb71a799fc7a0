import pg from 'pg';
import type { LineValues } from './gateway-store.js';
import { ATTEMPT_COLUMNS, RECORD_COLUMNS } from './sql-gateway-store.js';

type Param = string | number | null;

/** Rows per INSERT statement: well under PostgreSQL's 65,535 parameters. */
const ROWS_PER_STATEMENT = 500;
const RECORD_ID = RECORD_COLUMNS.indexOf('record_id');

/** A pool as every connection of the gateway to PostgreSQL is set up: its schema first on the search path, bounded waits. */
export function postgresPool(options: { url: string; schema: string; max: number; types?: pg.CustomTypesConfig }): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max,
    types: options.types,
    options: `-c search_path=${options.schema}`,
    application_name: 'llm-gateway',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that errors (server restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/** One pooled client, BEGIN ... COMMIT, ROLLBACK on any error, released in every case. */
export async function inTransaction(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await work(client);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * A batch of routing records (their line values) and their attempts in one
 * transaction of multi-row INSERTs; a record already stored (replayed from
 * the journal: its recordId) is skipped, and so are its attempts.
 */
export function insertRecordValues(pool: pg.Pool, rows: readonly LineValues[]): Promise<void> {
  return inTransaction(pool, async (client) => {
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const slice = rows.slice(i, i + ROWS_PER_STATEMENT);
      const insert = multiInsert('llm_routing_records', RECORD_COLUMNS, slice.map((r) => r[1]));
      insert.text += ' ON CONFLICT (record_id) DO NOTHING RETURNING record_id';
      const inserted = (await client.query<{ record_id: string }>(insert)).rows;
      const fresh = inserted.length === slice.length ? slice : onlyInserted(slice, inserted);
      const attempts = fresh.flatMap((r) => r[2]);
      for (let j = 0; j < attempts.length; j += ROWS_PER_STATEMENT) {
        await client.query(multiInsert('llm_routing_attempts', ATTEMPT_COLUMNS, attempts.slice(j, j + ROWS_PER_STATEMENT)));
      }
    }
  });
}

/** The rows of `slice` whose record id came back from the insert (the others were stored before); ids in line values are already storable. */
function onlyInserted(slice: readonly LineValues[], inserted: readonly { record_id: string }[]): LineValues[] {
  const ids = new Set(inserted.map((r) => r.record_id));
  return slice.filter((r) => ids.has(r[1][RECORD_ID] as string));
}

/** One INSERT of 1 to ROWS_PER_STATEMENT rows: the values in one array of its final size (no growth copies). */
function multiInsert(table: string, columns: readonly string[], rows: Param[][]): { text: string; values: Param[] } {
  const width = columns.length;
  const values = new Array<Param>(rows.length * width);
  let i = 0;
  for (const row of rows) for (let c = 0; c < width; c++) values[i++] = row[c]!;
  return { text: `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples(columns.length, rows.length)}`, values };
}

/** The placeholder text of ROWS_PER_STATEMENT rows, by values per row, with where each row's tuple ends. */
const tupleTexts = new Map<number, { text: string; ends: number[] }>();

/**
 * `($1, $2), ($3, $4), ...` for `rows` rows of `width` values: a prefix of
 * one text made once per width (a slice, not a string per value per batch).
 */
function tuples(width: number, rows: number): string {
  let all = tupleTexts.get(width);
  if (all === undefined) {
    const parts: string[] = [];
    const ends: number[] = [];
    let length = -2;
    for (let r = 0; r < ROWS_PER_STATEMENT; r++) {
      const tuple = `(${Array.from({ length: width }, (_, i) => `$${r * width + i + 1}`).join(', ')})`;
      parts.push(tuple);
      ends.push((length += tuple.length + 2));
    }
    all = { text: parts.join(', '), ends };
    tupleTexts.set(width, all);
  }
  return all.text.slice(0, all.ends[rows - 1]);
}
