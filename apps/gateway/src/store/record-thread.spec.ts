import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { row } from './record-row.fixture.js';
import { RecordThread, RecordThreadGone } from './record-thread.js';
import { SqliteGatewayStore } from './sqlite-gateway-store.js';

const dir = mkdtempSync(join(tmpdir(), 'llm-record-thread-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const day = { from: Date.now() - 86_400_000, to: Date.now() + 86_400_000 };

test('batches written on the record thread are readable on the main connection as soon as insert resolves', async () => {
  const path = join(dir, 'gateway.sqlite');
  const store = new SqliteGatewayStore(path);
  await store.migrate();
  const batches = [0, 1, 2].map((b) => Array.from({ length: 40 }, (_, i) => row(b * 100 + i, 'acme')));
  await Promise.all(batches.map((rows) => store.insertRecords(rows)));
  assert.equal((await store.tenantUsage('acme', day)).totals.requests, 120);
  await store.close();

  const reopened = new SqliteGatewayStore(path, { recordThread: false });
  await reopened.migrate();
  assert.equal((await reopened.tenantUsage('acme', day)).totals.requests, 120, 'committed before close returned');
  await reopened.close();
});

test('a record thread that cannot open its file refuses every batch with RecordThreadGone (the store then writes on its own connection)', async () => {
  const thread = new RecordThread(new URL('./sqlite-records.worker.js', import.meta.url), { path: dir }, 'SQLite'); // a directory: the open fails inside the thread
  await assert.rejects(thread.insert([row(1)]), RecordThreadGone);
  await assert.rejects(thread.insert([row(2)]), RecordThreadGone);
  await thread.close();
});
