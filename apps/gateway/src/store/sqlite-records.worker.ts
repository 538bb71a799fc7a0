/**
 * The SQLite record writer's thread (see sqlite-record-thread.ts): its own
 * connection to the gateway's file, one transaction per batch, an answer per
 * batch. Index upkeep on every insert costs tens of microseconds per record:
 * here it runs beside the event loop instead of stalling it, and so does
 * parsing the records' lines (record-line.ts), the form they are posted in.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LineValues } from './gateway-store.js';
import { valuesOfLine } from './record-line.js';
import { openSqlite, recordInserter } from './sqlite-database.js';

/** A batch as the records' lines (record-line.ts), or the end. */
export type RecordThreadRequest = { readonly id: number; readonly lines: readonly string[] } | { readonly close: true };
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
    insert(message.lines.map(values));
    port.postMessage({ id: message.id } satisfies RecordThreadReply);
  } catch (err) {
    port.postMessage({ id: message.id, error: err instanceof Error ? err.message : String(err) } satisfies RecordThreadReply);
  }
});

function values(line: string): LineValues {
  const v = valuesOfLine(line);
  // Never expected: every line posted is made by recordLine in this process.
  if (v === undefined) throw new Error(`not a routing record line: ${line.slice(0, 80)}`);
  return v;
}
