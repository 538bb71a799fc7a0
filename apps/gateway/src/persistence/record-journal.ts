import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { HeldEnds } from '../http/held-ends.js';
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
 *
 * Given `ends`, the lines of one pass of the event loop after its first share
 * one `writeSync` at the pass's end (check phase) instead of one each, and
 * every answer ending meanwhile holds its last bytes until that write is done
 * (HeldEnds): a crash before it loses only records whose answers have not
 * ended. The first line of a pass is written at once, so a call that comes
 * alone is answered as soon as before.
 */
export class FileRecordJournal implements RecordJournal {
  readonly description: string;
  private readonly owner = randomBytes(6).toString('base64url');
  private readonly segments = new Map<number, Segment>();
  private current?: Segment;
  private nextId = 0;
  private lastErrorAt = 0;
  private closed = false;
  /** A line was written in this pass of the event loop: the next ones wait for its end (`endPass`). */
  private passOpen = false;
  /** Lines waiting for the pass's end, all for `pending.segment`, with their rows and the hold on answers' ends. */
  private pending?: { segment: Segment; text: string; rows: RecordRow[]; release: () => void };
  private readonly endPass = (): void => {
    this.passOpen = false;
    this.flush();
  };

  constructor(
    readonly dir: string,
    private readonly options: {
      segmentBytes?: number;
      onError?: (message: string) => void;
      /** Answers' ends, held while lines wait for the pass's write; without it every line is written at once. */
      ends?: HeldEnds;
    } = {},
  ) {
    mkdirSync(dir, { recursive: true });
    this.description = `file journal in ${dir}`;
  }

  append(row: RecordRow): void {
    if (this.closed) return;
    const line = `${recordLine(row)}\n`;
    try {
      const segment = this.current ?? this.open();
      if (this.passOpen) this.queue(segment, line, row);
      else {
        writeWhole(segment.fd!, line);
        if (this.options.ends !== undefined) {
          this.passOpen = true;
          setImmediate(this.endPass);
        }
      }
      segment.outstanding++;
      segment.bytes += line.length;
      row.journal = segment.id;
      if (segment.bytes >= (this.options.segmentBytes ?? 4 * 1024 * 1024)) this.seal(segment);
    } catch (err) {
      // A full disk: the record still goes to the store through the writer, without the journal's cover.
      this.failed(`could not journal routing record ${row.requestId}`, err);
    }
  }

  /** Joins `line` to the pass's write; answers' ends wait for it from now. */
  private queue(segment: Segment, line: string, row: RecordRow): void {
    const pending = this.pending;
    if (pending !== undefined) {
      pending.text += line;
      pending.rows.push(row);
      return;
    }
    this.pending = { segment, text: line, rows: [row], release: this.options.ends!.hold() };
  }

  /** Writes the lines waiting for the pass's end, then lets the answers held for them end (also when the write fails). */
  private flush(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    try {
      writeWhole(pending.segment.fd!, pending.text);
    } catch (err) {
      // Not journaled after all: as when a line's own write fails, the rows still go to the store through the writer.
      for (const row of pending.rows) {
        if (row.journal !== pending.segment.id) continue;
        row.journal = undefined;
        pending.segment.outstanding--;
      }
      pending.segment.bytes = Math.max(0, pending.segment.bytes - pending.text.length);
      this.failed(`could not journal ${pending.rows.length} routing records`, err);
    } finally {
      pending.release();
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
    this.flush();
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
    // Its waiting lines go first: they are counted in it. (The answers held for them end here, inside the
    // append of the record that filled the segment: other calls' answers, whose lines are now written.)
    if (this.pending?.segment === segment) this.flush();
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

  private failed(what: string, err: unknown): void {
    this.error(`${what}: ${err instanceof Error ? err.message : String(err)}`);
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

/**
 * Writes all of `text` at the end of the file (opened for appending), or none of it. `writeSync` is one write(2), which
 * on a full disk or at a file-size limit can take part of the text without failing: the part is cut off again, so no torn
 * line runs into the next one (recovery would skip both), and the write fails as one that took nothing does.
 */
function writeWhole(fd: number, text: string): void {
  const written = writeSync(fd, text);
  // The byte length is asked only when the counts differ: a multi-byte text, or a short write.
  if (written === text.length || written === Buffer.byteLength(text)) return;
  try {
    ftruncateSync(fd, fstatSync(fd).size - written);
  } catch {
    // Left torn: recovery skips the line it cannot parse.
  }
  throw new Error(`a short write (${written} of ${Buffer.byteLength(text)} bytes): the disk is full or the file at its size limit`);
}
