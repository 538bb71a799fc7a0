import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type Database from 'better-sqlite3';
import type { LineValues } from './gateway-store.js';
import { lineValues } from './record-line.js';
import { row } from './record-row.fixture.js';
import { openSqlite } from './sqlite-database.js';
import { SqliteGatewayStore } from './sqlite-gateway-store.js';
import { recordInserter } from './sqlite-record-inserter.js';

/** A store's file with its tables, the connection the inserts go through and its inserter, removed after `check`. */
async function withInserter(check: (db: Database.Database, insert: ReturnType<typeof recordInserter>) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'llmr-sqlite-'));
  const path = join(dir, 'g.db');
  const store = new SqliteGatewayStore(path, { recordThread: false });
  await store.migrate();
  await store.close();
  const db = openSqlite(path);
  try {
    check(db, recordInserter(db));
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
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

test('a batch goes in with every record and attempt, in order, across the multi-row statements', () =>
  withInserter((db, insert) => {
    const ids = Array.from({ length: 21 }, (_, i) => i);
    insert(ids.slice(0, 1).map(values));
    insert(ids.slice(1).map(values));
    assert.equal(db.inTransaction, false);
    assert.deepEqual(stored(db), expected(ids));
  }));

test('records already stored (a replay) are skipped with their attempts, the rest of the batch goes in', () =>
  withInserter((db, insert) => {
    insert([2, 3, 11].map(values));
    // 3 and 11 again, and 7 twice in the batch: each stored once, with its attempts once.
    insert([1, 3, 5, 6, 7, 7, 9, 10, 11, 13].map(values));
    assert.equal(db.inTransaction, false);
    assert.deepEqual(stored(db), expected([2, 3, 11, 1, 5, 6, 7, 9, 10, 13]));
  }));

test('a batch that fails (a record the table refuses) stores nothing of it and throws, with or without a replayed record in it', () =>
  withInserter((db, insert) => {
    insert([2].map(values));
    // Without a replay record 10 fails in the second multi-row statement; with record 2 in it, the one-at-a-time way.
    for (const ids of [[1, 3, 4, 5, 6, 7, 8, 9, 11, 10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]) {
      const batch = ids.map(values);
      batch[9]![1][0] = null;
      assert.throws(() => insert(batch), /NOT NULL/);
      assert.equal(db.inTransaction, false);
      assert.deepEqual(stored(db), expected([2]));
    }
  }));

test('a record or an attempt with a value too many or too few fails the batch instead of shifting the next rows\' columns', () =>
  withInserter((db, insert) => {
    // One row one value long and another one short (either way round): the total still fits the statements, so only a
    // check per row sees it. Records 4 and 5 themselves; record 5's first two attempts.
    const rowsOf = (batch: LineValues[]) => [[batch[0]![1], batch[1]![1]], [batch[1]![2][0]!, batch[1]![2][1]!]];
    for (const which of [0, 1]) {
      for (const [longer, shorter] of [[0, 1], [1, 0]]) {
        const batch = [4, 5].map(values);
        const rows = rowsOf(batch)[which]!;
        rows[longer]!.push('extra');
        rows[shorter]!.pop();
        assert.throws(() => insert(batch), new RegExp(`routing ${which === 0 ? 'record' : 'attempt'} has \\d+ values`));
        assert.equal(db.inTransaction, false);
        assert.deepEqual(stored(db), expected([]));
      }
    }
  }));
