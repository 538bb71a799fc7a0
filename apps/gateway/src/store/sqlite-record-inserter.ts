import type Database from 'better-sqlite3';
import type { LineValues } from './gateway-store.js';
import { ATTEMPT_COLUMNS, RECORD_COLUMNS } from './sql-gateway-store.js';

/** Records per multi-row INSERT: statements are kept by row count, so at most this many of them (and twice as many for the attempts). */
const RECORDS_PER_STATEMENT = 8;
const ATTEMPTS_PER_STATEMENT = 2 * RECORDS_PER_STATEMENT;
const ATTEMPT_PARAMS_PER_STATEMENT = ATTEMPTS_PER_STATEMENT * ATTEMPT_COLUMNS.length;

/** A multi-row insert skipped a record already stored: the batch goes in again one record at a time. */
class RecordStoredAlready extends Error {}

/** One bound value of a line's record or attempt. */
type Param = LineValues[1][number];

/**
 * Inserts a batch of routing records (their line values) and their attempts in one transaction; a record already stored
 * (its recordId) is skipped, and so are its attempts.
 *
 * Up to RECORDS_PER_STATEMENT records go in one multi-row INSERT, their attempts in another: a statement's fixed work
 * (the call into the driver, opening a cursor on the table and each of its indexes, AUTOINCREMENT's sequence read and
 * written back) is shared by its rows (callgrind, 5,000 records in batches of 50 after 20,000: ~109k → ~84k instructions
 * a record). Which rows a multi-row insert skipped is not known, only how many it inserted: a batch where one was skipped
 * (a replay after a crash) is rolled back and inserted again one record at a time, as before.
 *
 * Used by the record thread and, once that thread is gone or when there is none (`:memory:`, `recordThread: false`), by the
 * event loop's connection, which keeps SQLite's default temp_store: its statement journals past 64 KiB go to a temporary
 * file (correct, only slower; see sqlite-records.worker.ts).
 */
export function recordInserter(db: Database.Database): (rows: readonly LineValues[]) => void {
  const insertRecords = statementsByRows(db, (n) => multiRowInsert('llm_routing_records', RECORD_COLUMNS, n, ' ON CONFLICT (record_id) DO NOTHING'));
  const insertAttempts = statementsByRows(db, (n) => multiRowInsert('llm_routing_attempts', ATTEMPT_COLUMNS, n));
  const together = db.transaction((rows: readonly LineValues[]) => {
    for (let from = 0; from < rows.length; from += RECORDS_PER_STATEMENT) {
      const to = Math.min(from + RECORDS_PER_STATEMENT, rows.length);
      const recordParams: Param[] = [];
      const attemptParams: Param[] = [];
      for (let i = from; i < to; i++) {
        const [, record, attempts] = rows[i]!;
        recordParams.push(...counted(record, RECORD_COLUMNS.length, 'record'));
        for (const a of attempts) attemptParams.push(...counted(a, ATTEMPT_COLUMNS.length, 'attempt'));
      }
      // The values as arguments, not one array: the driver binds an array's elements through the generic element lookup
      // (~17k of the ~100k instructions a record's two one-row inserts cost, callgrind).
      if (insertRecords(to - from).run(...recordParams).changes !== to - from) throw new RecordStoredAlready();
      for (let at = 0; at < attemptParams.length; at += ATTEMPT_PARAMS_PER_STATEMENT) {
        const part = attemptParams.slice(at, at + ATTEMPT_PARAMS_PER_STATEMENT);
        insertAttempts(part.length / ATTEMPT_COLUMNS.length).run(...part);
      }
    }
  });
  const insertRecord = insertRecords(1);
  const insertAttempt = insertAttempts(1);
  const oneByOne = db.transaction((rows: readonly LineValues[]) => {
    for (const [, record, attempts] of rows) {
      if (insertRecord.run(...record).changes === 0) continue;
      // One row a statement: a value too many or too few fails the insert itself.
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

/**
 * A record's or an attempt's values, checked for their count: flattened into a multi-row statement, a row one value short
 * or long would shift the next rows' columns instead of failing as a one-row insert did (the writer sets such a record aside).
 */
function counted(values: readonly Param[], columns: number, what: 'record' | 'attempt'): readonly Param[] {
  if (!Array.isArray(values) || values.length !== columns) throw new Error(`a routing ${what} has ${Array.isArray(values) ? values.length : 'no'} values, not ${columns}`);
  return values;
}

function multiRowInsert(table: string, columns: readonly string[], rows: number, tail = ''): string {
  const placeholders = `(${columns.map(() => '?').join(', ')})`;
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(rows).fill(placeholders).join(', ')}${tail}`;
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
