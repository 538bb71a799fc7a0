import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqlite, SQLITE_CACHE_KIB } from './sqlite-database.js';

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
