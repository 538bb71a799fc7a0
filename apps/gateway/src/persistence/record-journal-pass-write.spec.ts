/**
 * The file journal given answers' ends (HeldEnds): the first line of a pass of
 * the event loop is written at once, the later ones share one write at the
 * pass's end, and the answers ending meanwhile wait for it. Every `writeSync`
 * of the process is noted (or made to fail) through node:fs's own export.
 */
import assert from 'node:assert/strict';
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { HeldEnds } from '../http/held-ends.js';
import { recordLine, rowOfLine } from '../store/record-line.js';
import { row } from '../store/record-row.fixture.js';
import { FileRecordJournal } from './record-journal.js';

const root = mkdtempSync(join(tmpdir(), 'llm-record-journal-pass-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `j${dirs++}`);
const nextPass = () => new Promise<void>((resolve) => setImmediate(resolve));
const linesIn = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean));

const realWriteSync = fs.writeSync;
/** Each writeSync's text, in order; `fail` makes the next ones throw, `shortBy` write that many bytes less (a full disk). */
const writes: string[] = [];
let fail: Error | undefined;
let shortBy = 0;
fs.writeSync = ((fd: number, data: unknown, ...rest: unknown[]) => {
  if (fail) throw fail;
  writes.push(String(data));
  const text = shortBy > 0 ? String(data).slice(0, -shortBy) : data;
  return (realWriteSync as (...a: unknown[]) => number)(fd, text, ...rest);
}) as typeof fs.writeSync;
syncBuiltinESMExports();
after(() => {
  fs.writeSync = realWriteSync;
  syncBuiltinESMExports();
});
afterEach(() => {
  writes.length = 0;
  fail = undefined;
  shortBy = 0;
});

test('a call alone in its pass is written at once and holds no answer', async () => {
  const dir = freshDir();
  const ends = new HeldEnds();
  const journal = new FileRecordJournal(dir, { ends });
  journal.append(row(1));
  assert.equal(writes.length, 1);
  assert.equal(linesIn(dir).length, 1, 'in the file before append returns');
  assert.equal(ends.holding, false);
  await nextPass();
  journal.append(row(2));
  assert.equal(writes.length, 2, 'the next pass starts over: written at once again');
  assert.equal(ends.holding, false);
  await journal.close();
});

test('under load the later lines of a pass share one write at its end; the answers ending meanwhile wait for it', async () => {
  const dir = freshDir();
  const ends = new HeldEnds();
  const journal = new FileRecordJournal(dir, { ends });
  const ended: string[] = [];
  journal.append(row(1));
  journal.append(row(2));
  ends.defer(() => ended.push(`answer 2, lines in the file: ${linesIn(dir).length}`));
  journal.append(row(3));
  ends.defer(() => ended.push(`answer 3, lines in the file: ${linesIn(dir).length}`));
  assert.equal(writes.length, 1, 'only the first line of the pass went at once');
  assert.equal(ends.holding, true);
  assert.deepEqual(ended, []);
  await nextPass();
  assert.equal(writes.length, 2);
  assert.equal(writes[1]!.split('\n').filter(Boolean).length, 2, 'the two later lines in one write');
  assert.deepEqual(ended, ['answer 2, lines in the file: 3', 'answer 3, lines in the file: 3']);
  assert.equal(ends.holding, false);
  await journal.close();
});

test("a segment sealed mid-pass gets its waiting lines first; close() writes what waits", async () => {
  const dir = freshDir();
  const ends = new HeldEnds();
  const size = recordLine(row(0)).length + 1;
  const journal = new FileRecordJournal(dir, { ends, segmentBytes: 3 * size - 1 });
  const rows = Array.from({ length: 5 }, (_, i) => row(i));
  for (const r of rows) journal.append(r);
  // [0 at once, 1-2 waiting: sealed at the third, written then] [3-4 waiting in the new segment]
  assert.equal(linesIn(dir).length, 3);
  await journal.close();
  assert.equal(linesIn(dir).length, 5, 'close() wrote the waiting lines');
  assert.equal(ends.holding, false);
  journal.written(rows);
});

test('a failing pass write still lets the held answers end, reports, and leaves its rows to the writer alone', async () => {
  const dir = freshDir();
  const ends = new HeldEnds();
  const errors: string[] = [];
  const journal = new FileRecordJournal(dir, { ends, onError: (m) => errors.push(m) });
  const rows = [row(1), row(2), row(3)];
  journal.append(rows[0]!);
  journal.append(rows[1]!);
  journal.append(rows[2]!);
  let ended = false;
  ends.defer(() => (ended = true));
  fail = new Error('ENOSPC: no space left on device');
  await nextPass();
  assert.equal(ended, true, 'the held answer ended');
  assert.equal(ends.holding, false);
  assert.match(errors.join('\n'), /could not journal 2 routing records: ENOSPC/);
  assert.deepEqual(
    rows.map((r) => r.journal),
    [0, undefined, undefined],
    'the rows whose lines failed are not counted in the segment',
  );
  fail = undefined;
  journal.written(rows);
  await journal.close();
  assert.deepEqual(readdirSync(dir), [], 'every counted row written: the segment is gone at close');
});

test('a short write (part of the text taken, no error: a full disk) is cut off again and fails: no torn line, the held answers end', async () => {
  const dir = freshDir();
  const ends = new HeldEnds();
  const errors: string[] = [];
  const journal = new FileRecordJournal(dir, { ends, onError: (m) => errors.push(m) });
  const rows = [row(1), row(2), row(3), row(4)];
  journal.append(rows[0]!);
  journal.append(rows[1]!);
  journal.append(rows[2]!);
  let ended = false;
  ends.defer(() => (ended = true));
  shortBy = 100;
  await nextPass();
  assert.equal(ended, true);
  assert.match(errors.join('\n'), /could not journal 2 routing records: a short write/);
  assert.deepEqual(
    rows.slice(0, 3).map((r) => r.journal),
    [0, undefined, undefined],
  );
  shortBy = 0;
  journal.append(rows[3]!);
  assert.deepEqual(
    linesIn(dir).map((l) => rowOfLine(l)?.requestId),
    [rows[0]!.requestId, rows[3]!.requestId],
    'every line whole: the torn batch was cut off before the next line',
  );
  journal.written(rows);
  await journal.close();
});

test('without ends every line is written at once', async () => {
  const journal = new FileRecordJournal(freshDir());
  journal.append(row(1));
  journal.append(row(2));
  assert.equal(writes.length, 2);
  await journal.close();
});
