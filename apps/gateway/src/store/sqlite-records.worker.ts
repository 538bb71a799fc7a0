/**
 * The SQLite record writer's thread (see record-thread.ts): its own
 * connection to the gateway's file, one transaction per batch. Index upkeep
 * on every insert costs tens of microseconds per record: here it runs beside
 * the event loop instead of stalling it, and so does parsing the records'
 * lines (record-line.ts), the form they are posted in.
 */
import { workerData } from 'node:worker_threads';
import { serveRecordThread, valuesOfLines } from './record-thread-port.js';
import { openSqlite } from './sqlite-database.js';
import { recordInserter } from './sqlite-record-inserter.js';

const db = openSqlite((workerData as { path: string }).path);
// A multi-row insert keeps a statement journal (to undo that statement alone), which past 64 KiB SQLite spills to a temporary
// file: three times the thread's pwrite calls (micro, batches of 50: 79k -> 254k for 40,000 records) and twice its system
// time. In memory it holds one statement's pages at most (8 records' worth, freed with the statement). Only this connection:
// it never sorts, where the event loop's reports spill large sorts to a file. The event loop's connection inserts only once
// this thread is gone or when there is none, and then spills like any connection (correct, slower).
db.pragma('temp_store = MEMORY');
const insert = recordInserter(db);
serveRecordThread({ insert: (lines) => insert(valuesOfLines(lines)), ping: () => undefined, close: () => void db.close() });
