/**
 * The PostgreSQL store's routing records go through a worker thread with its
 * own pool (store/postgres-records.worker.ts). Real PostgreSQL, a schema of
 * its own: what the thread commits is readable as soon as a batch resolves,
 * replayed records are kept once (with their attempts once), close waits for
 * the batches in flight, a thread that stops leaves the inserts to the
 * store's own pool, and a thread that cannot reach the store while the
 * store's pool can makes the writer keep its rows (not dead-letter them).
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { RecordWriter } from '../apps/gateway/src/persistence/record-writer.js';
import { PostgresGatewayStore } from '../apps/gateway/src/store/postgres-gateway-store.js';
import { row } from '../apps/gateway/src/store/record-row.fixture.js';
import { PG_URL, postgresOrSkip } from './gateway-support/harness.js';

describe('the PostgreSQL record thread', () => {
  let postgres: Awaited<ReturnType<typeof postgresOrSkip>>;
  let schema = '';
  let skip: string | undefined;

  before(async () => {
    postgres = await postgresOrSkip();
    if ('skip' in postgres) skip = postgres.skip;
    else schema = postgres.schema;
  });

  after(async () => {
    if (!('skip' in postgres)) await postgres.drop();
  });

  async function count(table: string, tenant: string): Promise<number> {
    const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      return (await client.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM ${table} WHERE tenant = $1`, [tenant])).rows[0]!.n;
    } finally {
      await client.end();
    }
  }

  test('batches are readable as soon as insert resolves; a replayed record and its attempts are kept once', async (t) => {
    if (skip) return t.skip(skip);
    const store = new PostgresGatewayStore({ url: PG_URL, schema });
    try {
      await store.migrate();
      const batches = [0, 1, 2].map((b) => Array.from({ length: 40 }, (_, i) => row(b * 100 + i, 'read')));
      await Promise.all(batches.map((rows) => store.insertRecords(rows)));
      assert.equal(await count('llm_routing_records', 'read'), 120);
      // Half a batch again (a journal replay) with new rows: only the new ones and their attempts are added.
      await store.insertRecords([...batches[0]!.slice(0, 20).map((r) => row(Number(r.requestId.slice(1)), 'read')), row(999, 'read')]);
      assert.equal(await count('llm_routing_records', 'read'), 121);
      assert.equal(await count('llm_routing_attempts', 'read'), 121);
    } finally {
      await store.close();
    }
  });

  test('every value comes back as it went in, on the thread and on the store’s own pool alike (text made storable)', async (t) => {
    if (skip) return t.skip(skip);
    const rich = (i: number, tenant: string) => ({
      ...row(i, tenant),
      errorMessage: 'quote " backslash \\ emoji 😀 nul \u0000 half \ud83d end',
      costUsd: 0.000261,
      latencyMs: 3.21,
      firstChunkMs: 1e-7,
      budgetShare: 0.1234,
      startedAt: 1_796_562_424_138,
      stream: true,
      detail: JSON.stringify({ plannedRoute: ['a', 'b'], note: 'é' }),
      attempts: [
        { seq: 0, model: 'a', provider: 'p', outcome: 'failure', category: 'server_error', status: 503, code: 'x"y', latencyMs: 1.5, waitedMs: null },
        { seq: 1, model: 'b', provider: 'p', outcome: 'success', category: null, status: null, code: null, latencyMs: 2.25, waitedMs: 0.5 },
      ],
    });
    const read = async (tenant: string) => {
      const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        const r = (await client.query('SELECT * FROM llm_routing_records WHERE tenant = $1', [tenant])).rows[0];
        const a = (await client.query('SELECT * FROM llm_routing_attempts WHERE tenant = $1 ORDER BY seq', [tenant])).rows;
        for (const x of [r, ...a]) delete x.id;
        return { r: { ...r, record_id: undefined }, a };
      } finally {
        await client.end();
      }
    };
    const threaded = new PostgresGatewayStore({ url: PG_URL, schema });
    const here = new PostgresGatewayStore({ url: PG_URL, schema, recordThread: false });
    try {
      await threaded.migrate();
      await here.migrate();
      await threaded.insertRecords([rich(40_000, 'rich-thread')]);
      await here.insertRecords([rich(40_001, 'rich-here')]);
    } finally {
      await threaded.close();
      await here.close();
    }
    const viaThread = await read('rich-thread');
    const viaPool = await read('rich-here');
    assert.equal(viaThread.r.error_message, 'quote " backslash \\ emoji 😀 nul \uFFFD half \uFFFD end');
    assert.equal(viaThread.r.cost_usd, 0.000261);
    assert.equal(viaThread.r.first_chunk_ms, 1e-7);
    assert.equal(viaThread.r.started_at, '1796562424138');
    assert.equal(viaThread.r.stream, 1);
    assert.deepEqual(
      viaThread.a.map((a: Record<string, unknown>) => [a.seq, a.status, a.code, a.latency_ms, a.waited_ms]),
      [
        [0, 503, 'x"y', 1.5, null],
        [1, null, null, 2.25, 0.5],
      ],
    );
    assert.deepEqual({ ...viaThread.r, tenant: undefined, request_id: undefined }, { ...viaPool.r, tenant: undefined, request_id: undefined });
    assert.deepEqual(
      viaThread.a.map((a: Record<string, unknown>) => ({ ...a, tenant: undefined, request_id: undefined })),
      viaPool.a.map((a: Record<string, unknown>) => ({ ...a, tenant: undefined, request_id: undefined })),
    );
  });

  test('close waits for the batches in flight: all committed when it returns', async (t) => {
    if (skip) return t.skip(skip);
    const store = new PostgresGatewayStore({ url: PG_URL, schema });
    await store.migrate();
    const inserts = [0, 1, 2, 3].map((b) => store.insertRecords(Array.from({ length: 50 }, (_, i) => row(10_000 + b * 100 + i, 'closing'))));
    await store.close();
    await Promise.all(inserts);
    assert.equal(await count('llm_routing_records', 'closing'), 200);
  });

  test('a record thread that stops leaves the inserts to the store’s own pool', async (t) => {
    if (skip) return t.skip(skip);
    const store = new PostgresGatewayStore({ url: PG_URL, schema });
    try {
      await store.migrate();
      await store.insertRecords([row(20_000, 'gone')]);
      await (store as unknown as { recordThread: { worker: Worker } }).recordThread.worker.terminate();
      await store.insertRecords([row(20_001, 'gone'), row(20_002, 'gone')]);
      await store.ping();
      assert.equal(await count('llm_routing_records', 'gone'), 3);
    } finally {
      await store.close();
    }
  });

  test('the thread cannot connect while the store’s pool still answers: the writer keeps the rows, dead-letters none, and writes them once the thread connects', async (t) => {
    if (skip) return t.skip(skip);
    // The store reaches PostgreSQL through a proxy; stopping its listener keeps open connections (the store's pool's) and refuses new ones (the thread's first).
    const target = new URL(PG_URL);
    const sockets = new Set<Socket>();
    const listen = (port = 0) =>
      new Promise<Server>((resolve) => {
        const server = createServer((socket) => {
          const upstream = connect(Number(target.port || 5432), target.hostname);
          for (const s of [socket, upstream]) {
            sockets.add(s);
            s.on('error', () => undefined);
          }
          socket.pipe(upstream).pipe(socket);
        });
        server.listen(port, '127.0.0.1', () => resolve(server));
      });
    let proxy = await listen();
    const port = (proxy.address() as AddressInfo).port;
    const url = new URL(PG_URL);
    url.host = `127.0.0.1:${port}`;
    const store = new PostgresGatewayStore({ url: url.toString(), schema, poolSize: 1 });
    try {
      await store.migrate();
      // Stops listening at once; its callback would wait for the open connections to end.
      proxy.close();
      await store.ping().then(
        () => assert.fail('ping must fail while the thread cannot connect'),
        () => undefined,
      );
      const writer = new RecordWriter(store, { flushMs: 60_000, batchSize: 10 });
      for (let i = 0; i < 10; i++) writer.push(row(30_000 + i, 'cut'));
      await writer.flush();
      assert.equal(writer.deadLettered, 0, 'no row dead-lettered for a connection the thread could not open');
      assert.equal(writer.waiting, 10, 'the rows are kept for the next try');
      proxy = await listen(port);
      await writer.close();
      assert.equal(writer.waiting, 0);
      assert.equal(await count('llm_routing_records', 'cut'), 10);
      assert.equal((await store.listDeadRecords(10)).length, 0);
    } finally {
      await store.close();
      proxy.close();
      for (const s of sockets) s.destroy();
    }
  });
});
