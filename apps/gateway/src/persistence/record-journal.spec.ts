import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { row } from '../store/record-row.fixture.js';
import { SqliteGatewayStore } from '../store/sqlite-gateway-store.js';
import { recordLine } from '../store/record-line.js';
import { FileRecordJournal, parseLines } from './record-journal.js';

const root = mkdtempSync(join(tmpdir(), 'llm-record-journal-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `j${dirs++}`);
const day = { from: Date.now() - 86_400_000, to: Date.now() + 86_400_000 };

async function store(): Promise<SqliteGatewayStore> {
  const s = new SqliteGatewayStore(':memory:');
  await s.migrate();
  return s;
}

const files = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.jsonl'));

test('a record stored twice (by the writer and again from the journal) is kept once, with its attempts once', async () => {
  const s = await store();
  const rows = [row(1, 'acme'), row(2, 'acme')];
  await s.insertRecords(rows);
  await s.insertRecords([...rows, row(3, 'acme')]);
  const usage = await s.tenantUsage('acme', day);
  assert.equal(usage.totals.requests, 3);
  const report = await s.adminReport(day);
  assert.equal(report.totals.requests, 3);
  await s.close();
});

test('what a process journaled and never saw written is recovered by the next one, each record once', async () => {
  const dir = freshDir();
  const s = await store();
  const crashed = new FileRecordJournal(dir);
  const rows = [row(1, 'acme'), row(2, 'acme'), row(3, 'acme')];
  for (const r of rows) crashed.append(r);
  // The writer stored the first one before the crash; the process dies without close().
  await s.insertRecords([rows[0]!]);
  crashed.written([rows[0]!]);

  const next = new FileRecordJournal(dir);
  const batches: number[] = [];
  const recovered = await next.recover(async (batch) => {
    batches.push(batch.length);
    await s.insertRecords(batch);
  }, true);
  assert.equal(recovered, 3, 'the segment still holds every line it was given');
  assert.equal((await s.tenantUsage('acme', day)).totals.requests, 3, 'the one already stored is not stored twice');
  assert.deepEqual(files(dir), [], 'the recovered segment is gone');
  assert.equal(await next.recover(async () => assert.fail('nothing left'), true), 0);
  await next.close();
  await s.close();
});

test('a segment whose rows are all written is emptied; an older one is deleted; close() leaves nothing', async () => {
  const dir = freshDir();
  // Ten rows of one length; a segment is sealed at its fourth line: [0-3] [4-7] [8, 9 current].
  const line = recordLine(row(0)).length + 1;
  const journal = new FileRecordJournal(dir, { segmentBytes: 4 * line - 1 });
  const rows = Array.from({ length: 10 }, (_, i) => row(i));
  for (const r of rows) journal.append(r);
  assert.equal(files(dir).length, 3);
  journal.written(rows.slice(0, 9));
  // Every sealed segment is fully written and gone; the current one keeps the one outstanding line.
  assert.equal(files(dir).length, 1);
  journal.written(rows.slice(9));
  assert.equal(files(dir).length, 1);
  assert.equal(statSync(join(dir, files(dir)[0]!)).size, 0, 'the current segment was emptied');
  journal.append(row(20));
  assert.ok(statSync(join(dir, files(dir)[0]!)).size > 0, 'appends go on at the start of the emptied file');
  journal.written([]);
  await journal.close();
  assert.equal(files(dir).length, 1, 'a row not yet written stays for the next start');
});

test('a line torn by the crash is skipped; a failing store keeps the segment for the next try', async () => {
  const dir = freshDir();
  const crashed = new FileRecordJournal(dir);
  crashed.append(row(1));
  crashed.append(row(2));
  appendFileSync(join(dir, files(dir)[0]!), '[1,"rec-3","r3",17');
  const one = row(1);
  assert.deepEqual(parseLines(`${recordLine(one)}\n[1,"rec-2"`), [one], 'a row comes back as it went in; the torn line is left out');

  const next = new FileRecordJournal(dir);
  await assert.rejects(
    next.recover(async () => {
      throw new Error('store down');
    }, true),
    /store down/,
  );
  assert.equal(files(dir).length, 1, 'kept');
  const got: string[] = [];
  assert.equal(await next.recover(async (batch) => void got.push(...batch.map((r) => r.recordId)), true), 2);
  assert.deepEqual(got, ['rec-1', 'rec-2']);
  await next.close();
});
