import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordRow } from '../store/gateway-store.js';
import { recordLine, rowOfLine } from '../store/record-line.js';

/**
 * Where a routing record is kept from the moment it exists until the store
 * has it: a write-ahead journal. The records service appends each record
 * before the caller's last bytes are written; the writer tells the journal
 * which rows the store took; at start-up, what a process before this one left
 * is written to the store (idempotently: each row carries a unique recordId)
 * before the gateway serves.
 */
export interface RecordJournal {
  /** What keeps the records: shown in logs and /health. */
  readonly description: string;
  /** Keeps the row before it returns: from then on it survives kill -9 of this process. Never throws. */
  append(row: RecordRow): void;
  /** These rows are in the store (or its dead-letter table): the journal may forget them. */
  written(rows: readonly RecordRow[]): void;
  /**
   * Rows journaled by processes that are gone (a crash, kill -9), handed to
   * `write` a batch at a time; each batch is forgotten once `write` resolves.
   * A batch whose `write` throws stays for the next recovery. `startUp`: the
   * first recovery, before this process journals anything (a shared journal
   * then hands over everything it holds; later sweeps only what is old enough
   * to be an orphan). Returns the rows recovered.
   */
  recover(write: (rows: RecordRow[]) => Promise<void>, startUp: boolean): Promise<number>;
  close(): Promise<void>;
}

/** No journal (an in-memory store, or LLM_RECORD_JOURNAL=off): records live in memory until written. */
export class NoRecordJournal implements RecordJournal {
  readonly description = 'none';
  append(): void {}
  written(): void {}
  async recover(): Promise<number> {
    return 0;
  }
  async close(): Promise<void> {}
}

/** Rows handed to `write` at a time during recovery. */
export const RECOVERY_BATCH = 500;

interface Segment {
  readonly id: number;
  readonly path: string;
  fd: number | undefined;
  /** Rows appended and not yet written to the store. */
  outstanding: number;
  bytes: number;
}

/** records-<pid>-<owner>-<segment>.jsonl */
const SEGMENT_NAME = /^records-(\d+)-([A-Za-z0-9_-]+)-(\d+)\.jsonl$/;

/**
 * The local journal: append-only files of JSON lines in a directory (next to
 * the SQLite file by default). Each row is one `writeSync` of one line: once
 * it returns, the line is in the kernel's page cache, which outlives the
 * process (kill -9, an OOM kill, a crash), but not the machine: a power loss
 * or kernel panic can lose the last seconds of lines, as it can SQLite's own
 * last commits under `synchronous = NORMAL`. (An `fsync` per record would
 * close that gap at the cost of a disk flush per request, milliseconds on
 * many disks: not done.)
 *
 * Lines go to the current segment file; once every row of a segment is in the
 * store, the segment is emptied (the current one) or deleted (an older one).
 * A segment grows to `segmentBytes` at most before the next one starts, so a
 * steady load whose rows are never all written at once still lets old
 * segments go. File names carry the writing process's pid: at start-up, the
 * segments of processes that are gone are recovered; a live process's are
 * left alone (two gateways on one directory).
 */
export class FileRecordJournal implements RecordJournal {
  readonly description: string;
  private readonly owner = randomBytes(6).toString('base64url');
  private readonly segments = new Map<number, Segment>();
  private current?: Segment;
  private nextId = 0;
  private lastErrorAt = 0;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly options: { segmentBytes?: number; onError?: (message: string) => void } = {},
  ) {
    mkdirSync(dir, { recursive: true });
    this.description = `file journal in ${dir}`;
  }

  append(row: RecordRow): void {
    if (this.closed) return;
    const line = `${recordLine(row)}\n`;
    try {
      const segment = this.current ?? this.open();
      writeSync(segment.fd!, line);
      segment.outstanding++;
      segment.bytes += line.length;
      row.journal = segment.id;
      if (segment.bytes >= (this.options.segmentBytes ?? 4 * 1024 * 1024)) this.seal(segment);
    } catch (err) {
      // A full disk: the record still goes to the store through the writer, without the journal's cover.
      this.error(`could not journal routing record ${row.requestId}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  written(rows: readonly RecordRow[]): void {
    for (const row of rows) {
      const id = row.journal;
      if (id === undefined) continue;
      row.journal = undefined;
      const segment = this.segments.get(id);
      if (segment === undefined) continue;
      if (--segment.outstanding === 0) this.retire(segment);
    }
  }

  /** Segments of processes that are gone (the same at start-up and after: a live process's files are never touched). */
  async recover(write: (rows: RecordRow[]) => Promise<void>, _startUp?: boolean): Promise<number> {
    let recovered = 0;
    for (const name of readdirSync(this.dir).sort()) {
      const match = SEGMENT_NAME.exec(name);
      if (!match || match[2] === this.owner) continue;
      const pid = Number(match[1]);
      if (pid !== process.pid && isAlive(pid)) continue;
      const path = join(this.dir, name);
      const rows = parseLines(readFileSync(path, 'utf8'));
      for (let i = 0; i < rows.length; i += RECOVERY_BATCH) await write(rows.slice(i, i + RECOVERY_BATCH));
      unlinkSync(path);
      recovered += rows.length;
    }
    return recovered;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const segment of this.segments.values()) {
      if (segment.fd !== undefined) closeSync(segment.fd);
      segment.fd = undefined;
      // Everything written: nothing to recover. Rows still outstanding stay for the next start.
      if (segment.outstanding === 0) unlinkQuietly(segment.path);
    }
    this.segments.clear();
    this.current = undefined;
  }

  private open(): Segment {
    const id = this.nextId++;
    const path = join(this.dir, `records-${process.pid}-${this.owner}-${id}.jsonl`);
    const segment: Segment = { id, path, fd: openSync(path, 'a'), outstanding: 0, bytes: 0 };
    this.segments.set(id, segment);
    this.current = segment;
    return segment;
  }

  /** No more lines go to this segment; it is deleted once its rows are written. */
  private seal(segment: Segment): void {
    if (this.current === segment) this.current = undefined;
    if (segment.fd !== undefined) closeSync(segment.fd);
    segment.fd = undefined;
    if (segment.outstanding === 0) this.retire(segment);
  }

  private retire(segment: Segment): void {
    try {
      if (segment === this.current) {
        // Every line in it is stored: start it over (appends go to the new end).
        ftruncateSync(segment.fd!, 0);
        segment.bytes = 0;
        return;
      }
      this.segments.delete(segment.id);
      if (segment.fd !== undefined) closeSync(segment.fd);
      unlinkSync(segment.path);
    } catch (err) {
      // Left behind, it is only recovered again at the next start: its rows are skipped by their recordId.
      this.error(`could not retire journal segment ${segment.path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private error(message: string): void {
    const now = Date.now();
    if (now - this.lastErrorAt < 10_000) return;
    this.lastErrorAt = now;
    this.options.onError?.(message);
  }
}

/** Journal lines; an incomplete last line (the process died mid-write: its call was never answered) is skipped. */
export function parseLines(text: string): RecordRow[] {
  const rows: RecordRow[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const row = rowOfLine(line);
    if (row) rows.push(row);
  }
  return rows;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
