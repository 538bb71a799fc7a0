import type { WriteCoalescingRedis } from '@llm-router/nestjs/redis';
import type { HeldEnds } from '../http/held-ends.js';
import type { RecordRow } from '../store/gateway-store.js';
import { recordLine, rowOfLine } from '../store/record-line.js';
import { RECOVERY_BATCH, type RecordJournal } from './record-journal.js';

/**
 * The fleet's journal: one Redis stream per fleet (`<prefix>records:journal`),
 * on the connection the budget ledger uses. Each row is an `XADD` written to
 * the connection before the caller's last bytes and before the call's budget
 * settle, in that order on one connection: Redis never has a settle whose
 * record it lacks, and the record is as durable as the settle (Redis's own
 * persistence). The XADD's reply is not awaited on the request path. While
 * calls come one at a time, the settle goes in the XADD's own write
 * (`RedisBudgetLedgerStore.writeTogether`): one round trip for the two. Under
 * load the entries of one pass of the event loop share the pass's write (at
 * its end, with the settles after them), where each took a write of its own:
 * until it goes out, `ends` holds every answer's last bytes (HeldEnds).
 *
 * The writer of the instance that served the call stores the row and then
 * deletes its entry (`XDEL`, one per batch). Entries left in the stream
 * belong to a process that died (or to one whose store has been failing for
 * long): every instance sweeps entries older than `orphanAfterMs`, at
 * start-up all of them, writing them to the store and then deleting them. Two
 * instances sweeping at once, or a sweep racing the owner's own write, store
 * a row once: its recordId is unique in the store (`INSERT ... ON CONFLICT DO
 * NOTHING`). So a pod that never comes back still gets its records written
 * by the others.
 *
 * While Redis is not connected, rows go to the local fallback journal (a
 * file), so an answer never waits for Redis.
 */
export class RedisRecordJournal implements RecordJournal {
  readonly description: string;
  readonly key: string;
  private lastErrorAt = 0;
  /** Registers a hold's release for the pass's write: one function for every entry, not a closure per XADD. */
  private readonly releaseAfterWrite = (release: () => void): void => this.client.afterWrite(release);

  constructor(
    private readonly client: WriteCoalescingRedis,
    key: string,
    private readonly fallback: RecordJournal,
    private readonly options: {
      orphanAfterMs: number;
      onError?: (message: string) => void;
      /** Answers' ends, held while an entry waits for the pass's write (a client that does not write `xadd` at once needs it). */
      ends?: HeldEnds;
    },
  ) {
    this.description = `Redis stream ${key} (fallback: ${fallback.description})`;
    // One flat string, not a concatenation's tree: ioredis measures it (`Buffer.byteLength`) in every XADD, slower for a tree.
    this.key = Buffer.from(key).toString();
  }

  append(row: RecordRow): void {
    if (this.client.status !== 'ready') return this.fallback.append(row);
    // Written at the end of a `together` step (GatewayRedis names `xadd` in its writeAtStepEnd), else with the pass's write; the reply comes later.
    // Its entry is kept on the row, not in a map by recordId: a long-lived map's old tables, rebuilt as
    // rows come and go, kept every entry (and the pending XADD's row) through V8's young collections.
    // Sent flat: `xadd()` would copy its four arguments (~2k instructions each).
    const added = this.client.sendFlat<string | null>('xadd', [this.key, '*', 'r', recordLine(row)]);
    this.options.ends?.holdUntil(this.releaseAfterWrite);
    row.streamEntry = added;
    added.then(
      (id) => {
        if (row.streamEntry === added) row.streamEntry = id ?? '';
      },
      (err: unknown) => {
        // Not journaled after all (Redis refused it): the file keeps it, unless it was already written.
        if (row.streamEntry !== added) return;
        row.streamEntry = undefined;
        this.error(`could not journal routing record ${row.requestId} in Redis: ${err instanceof Error ? err.message : String(err)}`);
        this.fallback.append(row);
      },
    );
  }

  written(rows: readonly RecordRow[]): void {
    this.fallback.written(rows);
    let ids: string[] | undefined;
    let pending: Promise<string | null>[] | undefined;
    for (const row of rows) {
      const entry = row.streamEntry;
      if (entry === undefined) continue;
      row.streamEntry = undefined;
      if (typeof entry === 'string') {
        if (entry !== '') (ids ??= []).push(entry);
      } else (pending ??= []).push(entry);
    }
    if (pending === undefined) return this.forget(ids);
    void Promise.allSettled(pending).then((settled) => {
      for (const s of settled) if (s.status === 'fulfilled' && s.value) (ids ??= []).push(s.value);
      this.forget(ids);
    });
  }

  /**
   * Entries older than `orphanAfterMs` (at start-up, all of them), oldest
   * first: written by `write`, then deleted. Returns how many were written.
   */
  async recover(write: (rows: RecordRow[]) => Promise<void>, startUp: boolean): Promise<number> {
    let recovered = await this.fallback.recover(write, startUp);
    const end = startUp ? '+' : `${Math.max(0, Date.now() - this.options.orphanAfterMs)}`;
    let start = '-';
    for (;;) {
      const entries = await this.client.xrange(this.key, start, end, 'COUNT', RECOVERY_BATCH);
      if (entries.length === 0) return recovered;
      const rows: RecordRow[] = [];
      for (const [, fields] of entries) {
        const line = fields[fields.indexOf('r') + 1];
        const row = line === undefined ? undefined : rowOfLine(line);
        // Not a row (another format): deleted below with the rest.
        if (row) rows.push(row);
      }
      // Rows this instance journaled itself and is about to write are written twice at most: kept once.
      if (rows.length > 0) await write(rows);
      await this.client.xdel(this.key, ...entries.map(([id]) => id));
      recovered += rows.length;
      if (entries.length < RECOVERY_BATCH) return recovered;
      start = `(${entries[entries.length - 1]![0]}`;
    }
  }

  async close(): Promise<void> {
    await this.fallback.close();
  }

  private forget(ids: string[] | undefined): void {
    if (ids === undefined || ids.length === 0) return;
    this.client.sendFlat<number>('xdel', [this.key, ...ids]).catch((err: unknown) => {
      // Left in the stream, they are swept later and skipped by their recordId.
      this.error(`could not delete ${ids.length} journal entries: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  private error(message: string): void {
    const now = Date.now();
    if (now - this.lastErrorAt < 10_000) return;
    this.lastErrorAt = now;
    this.options.onError?.(message);
  }
}
