import pg from 'pg';
import { ATTEMPT_COLUMNS, RECORD_COLUMNS } from './sql-gateway-store.js';

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
 * A batch of routing records (their lines, record-line.ts) and their
 * attempts in one statement: the lines go as one JSON array, unpacked by
 * PostgreSQL (one parameter, not one per value: no parameter to serialize
 * here, no line to parse). As jsonb, parsed once: as json, every `->` would
 * parse the line again (3.5 times the server's CPU per record of the old
 * multi-row INSERTs; jsonb: about 0.7 times). A record already stored
 * (replayed from the journal: its recordId) is skipped, and so are its
 * attempts.
 */
export async function insertRecordLines(pool: pg.Pool, lines: readonly string[]): Promise<void> {
  const text = await (statements.get(pool) ?? statement(pool));
  await pool.query(text, [`[${lines.join(',')}]`]);
}

/** The insert statement by pool: made once, from the columns' types as the database has them. */
const statements = new WeakMap<pg.Pool, Promise<string>>();

function statement(pool: pg.Pool): Promise<string> {
  const made = (async () => {
    const [records, attempts] = await Promise.all([columnTypes(pool, 'llm_routing_records'), columnTypes(pool, 'llm_routing_attempts')]);
    const casts = (source: string, columns: readonly string[], types: Map<string, string>) => columns.map((c, i) => `(${source}->>${i})::${types.get(c)}`).join(', ');
    return `WITH batch AS MATERIALIZED (SELECT line, n FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(line, n)),
  stored AS (
    INSERT INTO llm_routing_records (${RECORD_COLUMNS.join(', ')})
    SELECT ${casts('line->1', RECORD_COLUMNS, records)} FROM batch
    ON CONFLICT (record_id) DO NOTHING RETURNING record_id)
INSERT INTO llm_routing_attempts (${ATTEMPT_COLUMNS.join(', ')})
SELECT ${casts('attempt', ATTEMPT_COLUMNS, attempts)}
FROM batch JOIN stored ON stored.record_id = batch.line->1->>${RECORD_ID} CROSS JOIN LATERAL jsonb_array_elements(batch.line->2) WITH ORDINALITY AS a(attempt, n)
ORDER BY batch.n, a.n`;
  })();
  statements.set(pool, made);
  // A failed look-up (the store down) is tried again with the next batch.
  made.catch(() => statements.delete(pool));
  return made;
}

/** Column name → SQL type of a table in the pool's schema (search_path). */
async function columnTypes(pool: pg.Pool, table: string): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ name: string; type: string }>(
    'SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped',
    [table],
  );
  return new Map(rows.map((r) => [r.name, r.type]));
}
