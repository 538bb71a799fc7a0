import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { row } from '../store/record-row.fixture.js';
import { SqliteGatewayStore } from '../store/sqlite-gateway-store.js';
import { RecordWriter } from './record-writer.js';

async function store(): Promise<SqliteGatewayStore> {
  const s = new SqliteGatewayStore(':memory:');
  await s.migrate();
  return s;
}

const requests = async (s: SqliteGatewayStore) => (await s.tenantUsage('t', { from: 0, to: Date.now() + 1000 })).totals.requests;

test('push only queues; the timer writes the batch', async () => {
  const s = await store();
  const writer = new RecordWriter(s, { flushMs: 20, batchSize: 100 });
  for (let i = 0; i < 5; i++) writer.push(row(i));
  assert.equal(await requests(s), 0, 'nothing is written on push');
  assert.equal(writer.waiting, 5);
  await sleep(60);
  assert.equal(await requests(s), 5);
  assert.equal(writer.written, 5);
  await s.close();
});

test('a full batch is written at once, without waiting for the timer', async () => {
  const s = await store();
  const writer = new RecordWriter(s, { flushMs: 60_000, batchSize: 10 });
  for (let i = 0; i < 10; i++) writer.push(row(i));
  await sleep(10);
  assert.equal(await requests(s), 10);
  await writer.close();
  await s.close();
});

test('close() writes everything still waiting', async () => {
  const s = await store();
  const writer = new RecordWriter(s, { flushMs: 60_000, batchSize: 1_000 });
  for (let i = 0; i < 250; i++) writer.push(row(i));
  await writer.close();
  assert.equal(await requests(s), 250);
  assert.equal(writer.waiting, 0);
  await s.close();
});

test('a failing store keeps the rows for the next try, bounded by maxPending', async () => {
  const s = await store();
  let fail = true;
  const real = s.insertRecords.bind(s);
  s.insertRecords = async (rows) => {
    if (fail) throw new Error('store down');
    return real(rows);
  };
  const errors: number[] = [];
  const writer = new RecordWriter(s, { flushMs: 60_000, batchSize: 1_000, maxPending: 8, onError: (_, n) => errors.push(n) });
  for (let i = 0; i < 5; i++) writer.push(row(i));
  await writer.flush();
  assert.deepEqual(errors, [5]);
  assert.equal(writer.waiting, 5);
  for (let i = 5; i < 10; i++) writer.push(row(i));
  assert.equal(writer.waiting, 8);
  assert.equal(writer.dropped, 2);
  fail = false;
  await writer.close();
  assert.equal(await requests(s), 8);
  await s.close();
});
