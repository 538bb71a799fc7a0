import pg from 'pg';
import type { RecordRow } from './gateway-store.js';
import { MIGRATIONS, MIGRATIONS_TABLE, spell } from './migrations.js';
import { inTransaction, insertRecordLines, postgresPool } from './postgres-records.js';
import { recordLine } from './record-line.js';
import { RecordThread } from './record-thread.js';
import { SqlGatewayStore } from './sql-gateway-store.js';

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

/** Any constant: serializes migrations across gateway instances. */
const MIGRATION_LOCK = 0x6c6c6d72;

/**
 * The shared store: PostgreSQL through a small pool. Routing records, the one
 * write on every call, are inserted by a worker thread with a pool of its own
 * (the `pg` client's statement building, parameter serialization and protocol
 * parsing off the event loop), a batch in one statement whose one parameter
 * is the records' lines as a JSON array; should the thread stop, this pool
 * inserts them. Keys, budgets,
 * reports and the dead-letter table use this pool.
 */
export class PostgresGatewayStore extends SqlGatewayStore {
  readonly kind = 'postgres' as const;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private recordThread?: RecordThread;
  private closed = false;

  constructor(private readonly options: PostgresStoreOptions & { recordThread?: boolean }) {
    super();
    this.schema = options.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.schema)) throw new Error(`invalid PostgreSQL schema name "${this.schema}"`);
    this.pool = postgresPool({ url: options.url, schema: this.schema, max: options.poolSize ?? 5, types });
  }

  async migrate(): Promise<void> {
    await inTransaction(this.pool, async (client) => {
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
    // The thread inserts once the tables exist.
    if (this.options.recordThread !== false && !this.recordThread) {
      this.recordThread = new RecordThread(new URL('./postgres-records.worker.js', import.meta.url), { url: this.options.url, schema: this.schema }, 'PostgreSQL');
    }
  }

  /** This pool answers, and so does the record thread's (a record writer told "the store answers" splits a refused batch to find its bad row). */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
    await this.recordThread?.ping();
  }

  async insertRecords(rows: readonly RecordRow[]): Promise<void> {
    if (rows.length === 0) return;
    const here = () => insertRecordLines(this.pool, rows.map(recordLine));
    await (this.recordThread ? this.recordThread.insertOr(rows, here) : here());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.recordThread?.close();
    } finally {
      await this.pool.end();
    }
  }

  protected async query(sql: string, params: readonly Param[] = []): Promise<Record<string, unknown>[]> {
    return (await this.pool.query(numbered(sql), params as Param[])).rows as Record<string, unknown>[];
  }

  protected async execute(sql: string, params: readonly Param[] = []): Promise<number> {
    return (await this.pool.query(numbered(sql), params as Param[])).rowCount ?? 0;
  }
}

/** `?` placeholders → `$1, $2, ...` (the shared SQL never has a `?` inside a literal). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
