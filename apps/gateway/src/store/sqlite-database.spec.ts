import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type Database from 'better-sqlite3';
import type { LineValues } from './gateway-store.js';
import { lineValues } from './record-line.js';
import { row } from './record-row.fixture.js';
import { openSqlite, recordInserter, SQLITE_CACHE_KIB } from './sqlite-database.js';
import { SqliteGatewayStore } from './sqlite-gateway-store.js';

test('every connection (the record writer and the event loop\'s) caps its page cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmr-sqlite-'));
  try {
    const writer = openSqlite(join(dir, 'g.db'));
    const reader = openSqlite(join(dir, 'g.db'));
    assert.ok(SQLITE_CACHE_KIB <= 2000);
    for (const db of [writer, reader]) assert.equal(db.pragma('cache_size', { simple: true }), -SQLITE_CACHE_KIB);
    // The same file, in WAL mode, as every connection to it.
    assert.equal(writer.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(reader.pragma('journal_mode', { simple: true }), 'wal');
    writer.close();
    reader.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A store's file with its tables, and the connection the inserts go through. */
async function migrated(dir: string): Promise<Database.Database> {
  const path = join(dir, 'g.db');
  const store = new SqliteGatewayStore(path, { recordThread: false });
  await store.migrate();
  await store.close();
  return openSqlite(path);
}

/** Record i with i % 6 attempts (none to five): batches cross the multi-row statements' bounds, records and attempts alike (the first eight of 1-20 have 18 attempts). */
const attemptsOf = (i: number) => i % 6;

function values(i: number): LineValues {
  const r = row(i);
  r.attempts = Array.from({ length: attemptsOf(i) }, (_, seq) => ({ ...r.attempts[0]!, seq, model: `m${i}-${seq}` }));
  return lineValues(r);
}

const stored = (db: Database.Database) => ({
  records: db.prepare('SELECT record_id, request_id FROM llm_routing_records ORDER BY id').all(),
  attempts: db.prepare('SELECT request_id, seq, model FROM llm_routing_attempts ORDER BY id').all(),
});

const expected = (ids: number[]) => ({
  records: ids.map((i) => ({ record_id: `rec-${i}`, request_id: `r${i}` })),
  attempts: ids.flatMap((i) => Array.from({ length: attemptsOf(i) }, (_, seq) => ({ request_id: `r${i}`, seq, model: `m${i}-${seq}` }))),
});

test('a batch goes in with every record and attempt, in order, across the multi-row statements', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmr-sqlite-'));
  const db = await migrated(dir);
  try {
    const insert = recordInserter(db);
    const ids = Array.from({ length: 21 }, (_, i) => i);
    insert(ids.slice(0, 1).map(values));
    insert(ids.slice(1).map(values));
    assert.deepEqual(stored(db), expected(ids));
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('records already stored (a replay) are skipped with their attempts, the rest of the batch goes in', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmr-sqlite-'));
  const db = await migrated(dir);
  try {
    const insert = recordInserter(db);
    insert([2, 3, 11].map(values));
    // 3 and 11 again, and 7 twice in the batch: each stored once, with its attempts once.
    insert([1, 3, 5, 6, 7, 7, 9, 10, 11, 13].map(values));
    assert.deepEqual(stored(db), expected([2, 3, 11, 1, 5, 6, 7, 9, 10, 13]));
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
