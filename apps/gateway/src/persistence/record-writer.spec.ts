import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { row } from '../store/record-row.fixture.js';
import { SqliteGatewayStore } from '../store/sqlite-gateway-store.js';
import { recordLine } from '../store/record-line.js';
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
  const ping = s.ping.bind(s);
  s.ping = async () => {
    if (fail) throw new Error('store down');
    return ping();
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

test('a row the store refuses is dead-lettered alone; the rest of its batch and the batches behind it are written', async () => {
  const s = await store();
  const dead: string[] = [];
  const writer = new RecordWriter(s, { flushMs: 60_000, batchSize: 10, onDeadLetter: (r) => dead.push(r.requestId) });
  // NOT NULL traffic_class: SQLite refuses this row, and with it the whole transaction of its batch. It carries both journals' marks.
  const poisoned = { ...row(3), trafficClass: null as unknown as string, journal: 7, streamEntry: '1700000000000-0' };
  for (let i = 0; i < 10; i++) writer.push(i === 3 ? poisoned : row(i));
  for (let i = 10; i < 25; i++) writer.push(row(i));
  await writer.close();
  assert.equal(await requests(s), 24, 'every row but the refused one');
  assert.equal(writer.written, 24);
  assert.equal(writer.deadLettered, 1);
  assert.equal(writer.waiting, 0);
  assert.deepEqual(dead, ['r3']);
  const kept = await s.listDeadRecords(10);
  assert.equal(kept.length, 1);
  assert.equal(kept[0]!.requestId, 'r3');
  assert.match(kept[0]!.reason, /NOT NULL/);
  const kept0 = JSON.parse(kept[0]!.rowJson) as Record<string, unknown>;
  assert.equal(kept0.requestId, 'r3');
  assert.ok(!('journal' in kept0) && !('streamEntry' in kept0), "the journals' marks are not the row's");
  await s.close();
});

test('a store that stops answering while a batch is split keeps the unplaced rows queued, not dead-lettered', async () => {
  const s = await store();
  const real = s.insertRecords.bind(s);
  let calls = 0;
  // The first insert is refused while the store still answers the ping; then the store is gone.
  s.insertRecords = async (rows) => {
    calls++;
    if (calls === 1) throw new Error('refused');
    if (calls > 1 && down) throw new Error('store down');
    return real(rows);
  };
  let down = false;
  const ping = s.ping.bind(s);
  s.ping = async () => {
    const answer = ping();
    down = true;
    return answer;
  };
  s.insertDeadRecord = async () => {
    throw new Error('store down');
  };
  const writer = new RecordWriter(s, { flushMs: 60_000, batchSize: 8 });
  for (let i = 0; i < 8; i++) writer.push(row(i));
  await writer.flush();
  assert.equal(writer.waiting, 8, 'all eight wait for the next try');
  assert.equal(writer.deadLettered, 0);
  down = false;
  await writer.close();
  assert.equal(await requests(s), 8);
  await s.close();
});

test('rows kept for a failing store drop their kept line and values; the next try stores them all the same', async () => {
  const s = await store();
  let fail = true;
  const real = s.insertRecords.bind(s);
  s.insertRecords = async (rows) => {
    // As the journal had made them.
    for (const r of rows) recordLine(r);
    if (fail) throw new Error('store down');
    return real(rows);
  };
  s.ping = async () => {
    throw new Error('store down');
  };
  const writer = new RecordWriter(s, { flushMs: 60_000, batchSize: 1_000 });
  const rows = [row(1), row(2)];
  for (const r of rows) writer.push(r);
  await writer.flush();
  assert.equal(writer.waiting, 2);
  assert.deepEqual(
    rows.map((r) => [r.line, r.values]),
    [
      [undefined, undefined],
      [undefined, undefined],
    ],
  );
  fail = false;
  await writer.close();
  assert.equal(await requests(s), 2);
  await s.close();
});
