/**
 * The SQLite record writer's thread (see record-thread.ts): its own
 * connection to the gateway's file, one transaction per batch. Index upkeep
 * on every insert costs tens of microseconds per record: here it runs beside
 * the event loop instead of stalling it, and so does parsing the records'
 * lines (record-line.ts), the form they are posted in.
 */
import { workerData } from 'node:worker_threads';
import { serveRecordThread, valuesOfLines } from './record-thread-port.js';
import { openSqlite, recordInserter } from './sqlite-database.js';

const db = openSqlite((workerData as { path: string }).path);
const insert = recordInserter(db);
serveRecordThread({ insert: (lines) => insert(valuesOfLines(lines)), ping: () => undefined, close: () => void db.close() });
