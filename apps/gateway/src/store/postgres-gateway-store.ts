import pg from 'pg';
import type { RecordRow } from './gateway-store.js';
import { MIGRATIONS, MIGRATIONS_TABLE, spell } from './migrations.js';
import { storableText } from './storable-text.js';
import { lineValues } from './record-line.js';
import { ATTEMPT_COLUMNS, RECORD_COLUMNS, SqlGatewayStore } from './sql-gateway-store.js';

type Param = string | number | null;

export interface PostgresStoreOptions {
  url: string;
  /** Tables live in this schema (created if missing). */
  schema?: string;
  poolSize?: number;
}

/** int8 (COUNT, SUM of integers) and numeric come back as numbers, not strings. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

/** Rows per INSERT statement: well under PostgreSQL's 65,535 parameters. */
const ROWS_PER_STATEMENT = 500;
/** Any constant: serializes migrations across gateway instances. */
const MIGRATION_LOCK = 0x6c6c6d72;

/**
 * The shared store: PostgreSQL through a small pool. A batch of records is
 * one transaction of multi-row INSERTs.
 */
export class PostgresGatewayStore extends SqlGatewayStore {
  readonly kind = 'postgres' as const;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private closed = false;

  constructor(options: PostgresStoreOptions) {
    super();
    this.schema = options.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.schema)) throw new Error(`invalid PostgreSQL schema name "${this.schema}"`);
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 5,
      types,
      options: `-c search_path=${this.schema}`,
      application_name: 'llm-gateway',
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client that errors (server restart) must not crash the process.
    this.pool.on('error', () => undefined);
  }

  async migrate(): Promise<void> {
    await this.inTransaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query(MIGRATIONS_TABLE);
      const done = new Set((await client.query<{ version: number }>('SELECT version FROM llm_schema_migrations')).rows.map((r) => Number(r.version)));
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        for (const statement of m.statements) await client.query(spell(statement, 'postgres'));
        await client.query('INSERT INTO llm_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      }
    });
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async insertRecords(rows: readonly RecordRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.inTransaction(async (client) => {
      for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
        const slice = rows.slice(i, i + ROWS_PER_STATEMENT);
        const insert = multiInsert('llm_routing_records', RECORD_COLUMNS, slice.map((r) => lineValues(r)[1]));
        // A record already stored (replayed from the journal) is skipped, and so are its attempts.
        insert.text += ' ON CONFLICT (record_id) DO NOTHING RETURNING record_id';
        const inserted = (await client.query<{ record_id: string }>(insert)).rows;
        const fresh = inserted.length === slice.length ? slice : onlyInserted(slice, inserted);
        const attempts = fresh.flatMap((r) => lineValues(r)[2]);
        for (let j = 0; j < attempts.length; j += ROWS_PER_STATEMENT) {
          await client.query(multiInsert('llm_routing_attempts', ATTEMPT_COLUMNS, attempts.slice(j, j + ROWS_PER_STATEMENT)));
        }
      }
    });
  }

  /** One pooled client, BEGIN ... COMMIT, ROLLBACK on any error, released in every case. */
  private async inTransaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  protected async query(sql: string, params: readonly Param[] = []): Promise<Record<string, unknown>[]> {
    return (await this.pool.query(numbered(sql), params as Param[])).rows as Record<string, unknown>[];
  }

  protected async execute(sql: string, params: readonly Param[] = []): Promise<number> {
    return (await this.pool.query(numbered(sql), params as Param[])).rowCount ?? 0;
  }
}

/** The rows of `slice` whose record id came back from the insert (the others were stored before). */
function onlyInserted(slice: readonly RecordRow[], inserted: readonly { record_id: string }[]): RecordRow[] {
  const ids = new Set(inserted.map((r) => r.record_id));
  return slice.filter((r) => ids.has(storableText(r.recordId)));
}

/** `?` placeholders → `$1, $2, ...` (the shared SQL never has a `?` inside a literal). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
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
