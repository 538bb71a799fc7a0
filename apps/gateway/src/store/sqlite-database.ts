import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { LineValues } from './gateway-store.js';
import { ATTEMPT_COLUMNS, RECORD_COLUMNS } from './sql-gateway-store.js';

/** A connection to the gateway's SQLite file, as every connection to it is set up (WAL, NORMAL sync, 5 s busy wait). */
export function openSqlite(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * The record thread's connection: it only inserts, so it needs the pages on the path to each index's insert point, not
 * better-sqlite3's 16 MB default cache (built with SQLITE_DEFAULT_CACHE_SIZE=-16000), which it filled as records went in and
 * kept for good: about 15 MB of the gateway's resident memory under load. 2 MB (SQLite's own default) holds them while
 * the file is young; once its indexes' inner pages outgrow it, inserts read pages back from the OS's page cache, on
 * this thread, not the event loop (a trade for bounded memory, as any fixed size is).
 */
export function openRecordWriter(path: string): Database.Database {
  const db = openSqlite(path);
  db.pragma(`cache_size = -${RECORD_WRITER_CACHE_KIB}`);
  return db;
}

/** The record writer's page cache in KiB (a negative cache_size is KiB, not pages). */
export const RECORD_WRITER_CACHE_KIB = 2000;

/** Inserts a batch of routing records (their line values) and their attempts in one transaction; a record already stored (its recordId) is skipped. */
export function recordInserter(db: Database.Database): (rows: readonly LineValues[]) => void {
  const insertRecord = db.prepare(
    `INSERT INTO llm_routing_records (${RECORD_COLUMNS.join(', ')}) VALUES (${RECORD_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (record_id) DO NOTHING`,
  );
  const insertAttempt = db.prepare(`INSERT INTO llm_routing_attempts (${ATTEMPT_COLUMNS.join(', ')}) VALUES (${ATTEMPT_COLUMNS.map(() => '?').join(', ')})`);
  // The values as arguments, not one array: the driver binds an array's elements through the generic element lookup, about
  // 17k of the ~100k instructions a record's two inserts cost (callgrind).
  return db.transaction((rows: readonly LineValues[]) => {
    for (const [, record, attempts] of rows) {
      if (insertRecord.run(...record).changes === 0) continue;
      for (const a of attempts) insertAttempt.run(...a);
    }
  });
}
