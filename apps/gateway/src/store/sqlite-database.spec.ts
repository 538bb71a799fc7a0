import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openRecordWriter, openSqlite, RECORD_WRITER_CACHE_KIB } from './sqlite-database.js';

test('the record writer connection caps its page cache; other connections keep the driver default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmr-sqlite-'));
  try {
    const writer = openRecordWriter(join(dir, 'g.db'));
    const reader = openSqlite(join(dir, 'g.db'));
    assert.equal(writer.pragma('cache_size', { simple: true }), -RECORD_WRITER_CACHE_KIB);
    assert.ok(RECORD_WRITER_CACHE_KIB <= 2000);
    // The same file, in WAL mode, as every connection to it.
    assert.equal(writer.pragma('journal_mode', { simple: true }), 'wal');
    assert.notEqual(reader.pragma('cache_size', { simple: true }), -RECORD_WRITER_CACHE_KIB);
    writer.close();
    reader.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
