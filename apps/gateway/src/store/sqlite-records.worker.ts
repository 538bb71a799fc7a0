/**
 * The SQLite record writer's thread (see sqlite-record-thread.ts): its own
 * connection to the gateway's file, one transaction per batch, an answer per
 * batch. Index upkeep on every insert costs tens of microseconds per record:
 * here it runs beside the event loop instead of stalling it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RecordRow } from './gateway-store.js';
import { openSqlite, recordInserter } from './sqlite-database.js';

export type RecordThreadRequest = { readonly id: number; readonly rows: readonly RecordRow[] } | { readonly close: true };
export interface RecordThreadReply {
  readonly id: number;
  readonly error?: string;
}

const port = parentPort!;
const db = openSqlite((workerData as { path: string }).path);
const insert = recordInserter(db);

port.on('message', (message: RecordThreadRequest) => {
  if ('close' in message) {
    db.close();
    port.close();
    return;
  }
  try {
    insert(message.rows);
    port.postMessage({ id: message.id } satisfies RecordThreadReply);
  } catch (err) {
    port.postMessage({ id: message.id, error: err instanceof Error ? err.message : String(err) } satisfies RecordThreadReply);
  }
});
