import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

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
