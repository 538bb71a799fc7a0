import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { RecordRow } from './gateway-store.js';
import { MIGRATIONS, MIGRATIONS_TABLE, spell } from './migrations.js';
import { ATTEMPT_COLUMNS, attemptParams, RECORD_COLUMNS, recordParams, SqlGatewayStore } from './sql-gateway-store.js';

type Param = string | number | null;

/**
 * The embedded store: one SQLite file (WAL), no set-up. better-sqlite3 is
 * synchronous, so a batch of records is one short transaction on the event
 * loop, run from the writer's timer, never from a request.
 */
export class SqliteGatewayStore extends SqlGatewayStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;

  constructor(readonly path: string) {
    super();
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
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
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Error('the SQLite store is closed');
    this.prepared('SELECT 1').get();
  }

  async insertRecords(rows: readonly RecordRow[]): Promise<void> {
    if (rows.length === 0) return;
    const insertRecord = this.prepared(`INSERT INTO llm_routing_records (${RECORD_COLUMNS.join(', ')}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')})`);
    const insertAttempt = this.prepared(`INSERT INTO llm_routing_attempts (${ATTEMPT_COLUMNS.join(', ')}) VALUES (${ATTEMPT_COLUMNS.map(() => '?').join(', ')})`);
    this.db.transaction(() => {
      for (const row of rows) {
        insertRecord.run(recordParams(row));
        for (const a of attemptParams(row)) insertAttempt.run(a);
      }
    })();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
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
