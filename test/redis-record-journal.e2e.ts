/**
 * The fleet's record journal on a real Redis: what an instance journaled and
 * never saw stored is written by another instance's sweep once it is old
 * enough to be an orphan (or at once at start-up), each record once; what the
 * instance stored itself is deleted from the stream. Skipped with the reason
 * when Redis is unreachable, except under CI=true.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { createRedisStoreClient, type WriteCoalescingRedis } from '@llm-router/nestjs/redis';
import { NoRecordJournal, type RecordJournal } from '../apps/gateway/src/persistence/record-journal.js';
import { RedisRecordJournal } from '../apps/gateway/src/persistence/redis-record-journal.js';
import type { RecordRow } from '../apps/gateway/src/store/gateway-store.js';
import { row } from '../apps/gateway/src/store/record-row.fixture.js';
import { SqliteGatewayStore } from '../apps/gateway/src/store/sqlite-gateway-store.js';
import { REDIS_URL, redisAvailable } from './support/services.js';

const redis = await redisAvailable();
const day = { from: Date.now() - 86_400_000, to: Date.now() + 86_400_000 };

describe('the Redis record journal', { skip: redis === true ? false : redis }, () => {
  const key = `llmr-journal-test-${randomUUID()}:records:journal`;
  const clients: WriteCoalescingRedis[] = [];
  const client = () => {
    // The gateway's kind of connection (GatewayRedis): the journal sends its commands flat on it.
    const c = createRedisStoreClient(REDIS_URL, { writeAtOnce: ['xadd'] });
    clients.push(c);
    return c;
  };
  after(async () => {
    const cleaner = client();
    await cleaner.del(key).catch(() => undefined);
    for (const c of clients) c.disconnect();
  });

  test("a dead instance's rows are written by another instance, once; rows stored by their own instance leave the stream", async () => {
    const store = new SqliteGatewayStore(':memory:');
    await store.migrate();
    const dead = client();
    await dead.ping();
    const a = new RedisRecordJournal(dead, key, new NoRecordJournal(), { orphanAfterMs: 60_000 });
    const rows = [row(1, 'acme'), row(2, 'acme'), row(3, 'acme')];
    for (const r of rows) a.append(r);
    // Instance a stored the first row, then died.
    await store.insertRecords([rows[0]!]);
    a.written([rows[0]!]);
    await dead.ping();
    await dead.ping();
    assert.equal(await dead.xlen(key), 2, 'the stored row left the stream');
    dead.disconnect();

    const other = client();
    const b = new RedisRecordJournal(other, key, new NoRecordJournal(), { orphanAfterMs: 60_000 });
    const write = (batch: typeof rows) => store.insertRecords(batch);
    assert.equal(await b.recover(write, false), 0, 'younger than orphanAfterMs: left to their owner');
    const sweeper = new RedisRecordJournal(other, key, new NoRecordJournal(), { orphanAfterMs: 0 });
    assert.equal(await sweeper.recover(write, false), 2, 'orphans: written by the sweep');
    assert.equal(await other.xlen(key), 0);
    assert.equal((await store.tenantUsage('acme', day)).totals.requests, 3);

    // At start-up everything in the stream is written, whatever its age; a row stored already is kept once.
    const c = new RedisRecordJournal(other, key, new NoRecordJournal(), { orphanAfterMs: 60_000 });
    c.append(rows[1]!);
    await other.ping();
    assert.equal(await new RedisRecordJournal(other, key, new NoRecordJournal(), { orphanAfterMs: 60_000 }).recover(write, true), 1);
    assert.equal((await store.tenantUsage('acme', day)).totals.requests, 3);
    await store.close();
  });

  test('an XADD Redis refuses (the key holds another type) leaves the row to the file journal, with the error said', async () => {
    const refusing = `${key}:wrongtype`;
    const c = client();
    await c.set(refusing, 'not a stream');
    const kept: string[] = [];
    const errors: string[] = [];
    const files: RecordJournal = {
      description: 'files',
      append: (r: RecordRow) => void kept.push(r.requestId),
      written: () => undefined,
      recover: async () => 0,
      close: async () => undefined,
    };
    const journal = new RedisRecordJournal(c, refusing, files, { orphanAfterMs: 60_000, onError: (m) => errors.push(m) });
    const refused = row(1);
    journal.append(refused);
    assert.ok(refused.streamEntry instanceof Promise, 'sent to Redis first');
    await refused.streamEntry.catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(kept, [refused.requestId]);
    assert.equal(refused.streamEntry, undefined);
    assert.match(errors.join('\n'), /WRONGTYPE/);
    await c.del(refusing);
  });
});
