import type Database from 'better-sqlite3';
import type { LineValues, RecordRow } from './gateway-store.js';
import { MIGRATIONS, MIGRATIONS_TABLE, spell } from './migrations.js';
import { lineValues } from './record-line.js';
import { SqlGatewayStore } from './sql-gateway-store.js';
import { openSqlite } from './sqlite-database.js';
import { recordInserter } from './sqlite-record-inserter.js';
import { RecordThread } from './record-thread.js';

type Param = string | number | null;

/**
 * The embedded store: one SQLite file (WAL), no set-up. better-sqlite3 is
 * synchronous: routing records, the one write on every call, are inserted on
 * a worker thread with its own connection (an in-memory database, which a
 * thread cannot share, inserts them here); keys, budgets and reports use this
 * connection.
 */
export class SqliteGatewayStore extends SqlGatewayStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;

  private insertHere?: (rows: readonly LineValues[]) => void;
  private recordThread?: RecordThread;

  constructor(
    readonly path: string,
    private readonly options: { recordThread?: boolean } = {},
  ) {
    super();
    this.db = openSqlite(path);
  }

  async migrate(): Promise<void> {
    this.db.exec(MIGRATIONS_TABLE);
    const apply = this.db.transaction(() => {
      const done = new Set(this.db.prepare('SELECT version FROM llm_schema_migrations').all().map((r) => Number((r as { version: number }).version)));
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        for (const statement of m.statements) this.db.exec(spell(statement, 'sqlite'));
        this.db.prepare('INSERT INTO llm_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }
    });
    // IMMEDIATE: a second process migrating the same file waits instead of failing half-way.
    apply.immediate();
    // The thread opens the file once its tables exist.
    if (this.path !== ':memory:' && this.options.recordThread !== false && !this.recordThread) this.recordThread = new RecordThread(new URL('./sqlite-records.worker.js', import.meta.url), { path: this.path }, 'SQLite');
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('the SQLite store is closed');
    this.prepared('SELECT 1').get();
  }

  async insertRecords(rows: readonly RecordRow[]): Promise<void> {
    if (rows.length === 0) return;
    const here = () => (this.insertHere ??= recordInserter(this.db))(rows.map(lineValues));
    await (this.recordThread ? this.recordThread.insertOr(rows, here) : here());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.recordThread?.close();
    } finally {
      this.db.close();
    }
  }

  protected async query(sql: string, params: readonly Param[] = []): Promise<Record<string, unknown>[]> {
    return this.prepared(sql).all(params) as Record<string, unknown>[];
  }

  protected async execute(sql: string, params: readonly Param[] = []): Promise<number> {
    return this.prepared(sql).run(params).changes;
  }

  private prepared(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
