import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { LineValues } from './gateway-store.js';
import { ATTEMPT_COLUMNS, RECORD_COLUMNS } from './sql-gateway-store.js';

/** A connection to the gateway's SQLite file, as every connection to it is set up (WAL, NORMAL sync, 5 s busy wait, a 2 MB page cache). */
export function openSqlite(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
  return db;
}

/**
 * Each connection's page cache in KiB (a negative cache_size is KiB, not pages): SQLite's own default, not better-sqlite3's
 * 16 MB build default (SQLITE_DEFAULT_CACHE_SIZE=-16000), which a connection fills and keeps for good. The record thread's
 * filled as records went in (~15 MB of RSS under load); the event loop's by one pass over the records at start-up (each
 * tenant's spend restored from its budget period: ~20 MB more resident for a 117 MB file). The record thread only inserts
 * (the pages on the path to each index's insert point); the event loop reads indexed rows and scans for reports, which a
 * cache smaller than the file does not hold anyway (and in WAL mode each read transaction drops the cache once another
 * connection committed, which the record thread does all the time under load). Beyond it, pages are read back from the
 * OS's page cache (a trade for bounded memory, as any fixed size is). SQLite also sizes its sort buffer from it, so a report's
 * GROUP BY or window sort the indexes do not cover spills to a temporary file past 2 MB (timed on a 110 MB, 400k-row file:
 * no difference within the ±30 % noise).
 */
export const SQLITE_CACHE_KIB = 2000;

/** Records per multi-row INSERT: statements are kept by row count, so at most this many of them (and twice as many for the attempts). */
const RECORDS_PER_STATEMENT = 8;
const ATTEMPTS_PER_STATEMENT = 2 * RECORDS_PER_STATEMENT;

/** A multi-row insert skipped a record already stored: the batch goes in again one record at a time. */
class RecordStoredAlready extends Error {}

/**
 * Inserts a batch of routing records (their line values) and their attempts in one transaction; a record already stored
 * (its recordId) is skipped, and so are its attempts.
 *
 * Up to RECORDS_PER_STATEMENT records go in one multi-row INSERT, their attempts in another: a statement's fixed work
 * (the call into the driver, opening a cursor on the table and each of its indexes, AUTOINCREMENT's sequence read and
 * written back) is shared by its rows (callgrind, 5,000 records in batches of 50 after 20,000: ~109k → ~84k instructions
 * a record). Which rows a multi-row insert skipped is not known, only how many it inserted: a batch where one was skipped
 * (a replay after a crash) is rolled back and inserted again one record at a time, as before.
 */
export function recordInserter(db: Database.Database): (rows: readonly LineValues[]) => void {
  const values = (columns: readonly string[]) => `(${columns.map(() => '?').join(', ')})`;
  const insertRecords = statementsByRows(
    db,
    (n) => `INSERT INTO llm_routing_records (${RECORD_COLUMNS.join(', ')}) VALUES ${Array(n).fill(values(RECORD_COLUMNS)).join(', ')} ON CONFLICT (record_id) DO NOTHING`,
  );
  const insertAttempts = statementsByRows(db, (n) => `INSERT INTO llm_routing_attempts (${ATTEMPT_COLUMNS.join(', ')}) VALUES ${Array(n).fill(values(ATTEMPT_COLUMNS)).join(', ')}`);
  // The values as arguments, not one array: the driver binds an array's elements through the generic element lookup, about
  // 17k of the ~100k instructions a record's two inserts cost (callgrind).
  const together = db.transaction((rows: readonly LineValues[]) => {
    for (let from = 0; from < rows.length; from += RECORDS_PER_STATEMENT) {
      const to = Math.min(from + RECORDS_PER_STATEMENT, rows.length);
      const recordParams: (string | number | null)[] = [];
      const attemptParams: (string | number | null)[] = [];
      for (let i = from; i < to; i++) {
        const [, record, attempts] = rows[i]!;
        recordParams.push(...record);
        for (const a of attempts) attemptParams.push(...a);
      }
      if (insertRecords(to - from).run(...recordParams).changes !== to - from) throw new RecordStoredAlready();
      const perAttempt = ATTEMPT_COLUMNS.length;
      for (let at = 0; at < attemptParams.length; at += ATTEMPTS_PER_STATEMENT * perAttempt) {
        const part = attemptParams.slice(at, at + ATTEMPTS_PER_STATEMENT * perAttempt);
        insertAttempts(part.length / perAttempt).run(...part);
      }
    }
  });
  const insertRecord = insertRecords(1);
  const insertAttempt = insertAttempts(1);
  const oneByOne = db.transaction((rows: readonly LineValues[]) => {
    for (const [, record, attempts] of rows) {
      if (insertRecord.run(...record).changes === 0) continue;
      for (const a of attempts) insertAttempt.run(...a);
    }
  });
  return (rows) => {
    try {
      together(rows);
    } catch (err) {
      if (!(err instanceof RecordStoredAlready)) throw err;
      oneByOne(rows);
    }
  };
}

/** A statement for each row count, prepared on first use. */
function statementsByRows(db: Database.Database, sql: (rows: number) => string): (rows: number) => Database.Statement {
  const made = new Map<number, Database.Statement>();
  return (rows) => {
    let statement = made.get(rows);
    if (statement === undefined) made.set(rows, (statement = db.prepare(sql(rows))));
    return statement;
  };
}
