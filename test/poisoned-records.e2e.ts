/**
 * Issue #13, item 1: free text from outside (an upstream's error message, a
 * key's name) reaches the store; PostgreSQL refuses U+0000 in text. One such
 * record must neither be lost silently nor block the records behind it, and a
 * row the store refuses for any reason is kept aside in the dead-letter table.
 * Real gateway, real PostgreSQL (a schema of its own), real simulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { PostgresGatewayStore } from '../apps/gateway/src/store/postgres-gateway-store.js';
import { RecordWriter } from '../apps/gateway/src/persistence/record-writer.js';
import { row } from '../apps/gateway/src/store/record-row.fixture.js';
import { ADMIN_KEY, PG_URL, call, chat, createKey, postgresOrSkip, simFault, startGw, startSim, type Gw, type SimulatorHandle } from './gateway-support/harness.js';

describe('poisoned records on PostgreSQL', () => {
  let sim: SimulatorHandle;
  let gw: Gw;
  let schema = '';
  let drop: () => Promise<void> = async () => undefined;
  let skip: string | undefined;

  before(async () => {
    const store = await postgresOrSkip();
    if ('skip' in store) {
      skip = store.skip;
      return;
    }
    schema = store.schema;
    drop = store.drop;
    sim = await startSim();
    gw = await startGw(sim, { store: store.store });
  });

  after(async () => {
    await gw?.close();
    await sim?.close();
    await drop();
  });

  async function sql<T>(text: string): Promise<T[]> {
    const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      return (await client.query(text)).rows as T[];
    } finally {
      await client.end();
    }
  }

  test('an upstream message with U+0000 is stored (as U+FFFD) and every record after it is written', async (t) => {
    if (skip) return t.skip(skip);
    const { key } = await createKey(gw, { tenant: 'nul' });
    const poisoned = simFault('premium-a', { status: 400, body: { error: { message: 'x\u0000y', type: 'invalid_request_error' } } });
    const refused = await chat(gw, key, `hello ${poisoned}`);
    assert.equal(refused.status, 400);
    for (let i = 0; i < 50; i++) assert.equal((await chat(gw, key, `after ${i}`)).status, 200);

    const usage = await call(gw.url, '/v1/usage?period=all', { key }); // flushes the writer first
    assert.equal(usage.status, 200);
    assert.equal(usage.json.totals.requests, 51, 'the refused call and the fifty after it');

    const [failed] = await sql<{ error_message: string }>("SELECT error_message FROM llm_routing_records WHERE tenant = 'nul' AND outcome <> 'success'");
    assert.ok(failed, 'the failed call has its record');
    assert.match(failed.error_message, /x\uFFFDy/);
  });

  test('a key named with U+0000 is created, listed and usable', async (t) => {
    if (skip) return t.skip(skip);
    const res = await call(gw.url, '/admin/keys', { key: ADMIN_KEY, body: { tenant: 'named', name: 'a\u0000b' } });
    assert.equal(res.status, 201, res.text);
    const list = await call(gw.url, '/admin/keys', { key: ADMIN_KEY });
    assert.equal(list.status, 200, list.text);
    assert.equal((await chat(gw, res.json.key, 'hi')).status, 200);
  });

  test('a row PostgreSQL refuses goes to the dead-letter table alone; its batch and the next are written', async (t) => {
    if (skip) return t.skip(skip);
    const store = new PostgresGatewayStore({ url: PG_URL, schema, poolSize: 2 });
    try {
      await store.migrate();
      const writer = new RecordWriter(store, { flushMs: 60_000, batchSize: 20 });
      // prompt_tokens is an INTEGER column: a provider reporting three billion tokens cannot be stored as is.
      for (let i = 0; i < 40; i++) writer.push(i === 7 ? { ...row(7, 'dead'), promptTokens: 3e9 } : row(i, 'dead'));
      await writer.close();
      assert.equal(writer.written, 39);
      assert.equal(writer.deadLettered, 1);
      const [{ n }] = await sql<{ n: number }>("SELECT COUNT(*)::int AS n FROM llm_routing_records WHERE tenant = 'dead'");
      assert.equal(n, 39);
      const dead = await store.listDeadRecords(5);
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.requestId, 'r7');
      assert.match(dead[0]!.reason, /out of range/);
    } finally {
      await store.close();
    }
  });
});
