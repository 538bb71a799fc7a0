/**
 * A record thread's side of its protocol (record-thread.ts is the main
 * thread's): batches come as the records' lines (record-line.ts), handled
 * off the event loop; each request gets one answer, in any order. `close`
 * waits for the requests in flight, then closes the connection and the port.
 */
import { parentPort } from 'node:worker_threads';
import type { LineValues } from './gateway-store.js';
import { valuesOfLine } from './record-line.js';

/** A batch as the records' lines, a check of the thread's connection, or the end. */
export type RecordThreadRequest = { readonly id: number; readonly lines: readonly string[] } | { readonly id: number; readonly ping: true } | { readonly close: true };
export interface RecordThreadReply {
  readonly id: number;
  readonly error?: string;
}

/** What a record thread does with its connection. */
export interface RecordThreadStore {
  /** One transaction of the records' lines: records already stored (by recordId) are skipped, with their attempts. */
  insert(lines: readonly string[]): void | Promise<void>;
  ping(): void | Promise<void>;
  close(): void | Promise<void>;
}

/** Answers the main thread's requests with `store` until it says close. */
export function serveRecordThread(store: RecordThreadStore): void {
  const port = parentPort!;
  const inFlight = new Set<Promise<void>>();
  port.on('message', (message: RecordThreadRequest) => {
    if ('close' in message) {
      void Promise.allSettled(inFlight)
        .then(() => store.close())
        .finally(() => port.close());
      return;
    }
    const done = answer(message.id, () => ('ping' in message ? store.ping() : store.insert(message.lines))).finally(() => inFlight.delete(done));
    inFlight.add(done);
  });

  async function answer(id: number, work: () => void | Promise<void>): Promise<void> {
    try {
      await work();
      port.postMessage({ id } satisfies RecordThreadReply);
    } catch (err) {
      port.postMessage({ id, error: err instanceof Error ? err.message : String(err) } satisfies RecordThreadReply);
    }
  }
}

/** The values of posted lines (for a store that binds them). */
export function valuesOfLines(lines: readonly string[]): LineValues[] {
  return lines.map((line) => {
    const v = valuesOfLine(line);
    // Never expected: every line posted is made by recordLine in this process.
    if (v === undefined) throw new Error(`not a routing record line: ${line.slice(0, 80)}`);
    return v;
  });
}
