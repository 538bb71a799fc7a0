/**
 * The record journal on Redis under load: every answer's last bytes leave the
 * gateway after its record's XADD was written to the Redis connection, also
 * now that the XADDs of a pass of the event loop share one write at its end
 * (HeldEnds). Each write on the Redis connection and on every client
 * connection is noted in order, in the gateway's own process.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { GatewayRedis } from '../apps/gateway/src/redis/gateway-redis.js';
import { sqliteStore, startGw, startSim, tempDir, testPolicy, type Gw, type SimulatorHandle } from './gateway-support/harness.js';
import { deletePrefix, REDIS_URL, redisAvailable } from './support/services.js';

const available = await redisAvailable();

interface Written {
  readonly socket: number;
  readonly text: string;
}

type Chunk = string | Uint8Array;
const textOf = (chunk: Chunk) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1'));

/** Notes every write `socket` makes, in the order made, under `socketNo`. */
function noteWrites(socket: Socket, socketNo: number, writes: Written[]): void {
  const s = socket as unknown as { _write: (chunk: Chunk, ...rest: unknown[]) => void; _writev: (chunks: Array<{ chunk: Chunk }>, ...rest: unknown[]) => void };
  const write = s._write;
  const writev = s._writev;
  s._write = function (this: Socket, chunk: Chunk, ...rest: unknown[]) {
    writes.push({ socket: socketNo, text: textOf(chunk) });
    return write.call(this, chunk, ...rest);
  };
  s._writev = function (this: Socket, chunks: Array<{ chunk: Chunk }>, ...rest: unknown[]) {
    writes.push({ socket: socketNo, text: chunks.map((c) => textOf(c.chunk)).join('') });
    return writev.call(this, chunks, ...rest);
  };
}

describe('the record journal on Redis: answers end after their records are written', { skip: available === true ? false : available }, () => {
  const prefix = `llmr-test:${randomUUID()}:`;
  const dir = tempDir();
  let sim: SimulatorHandle;
  let gw: Gw;

  before(async () => {
    sim = await startSim();
    const policy = { ...testPolicy(sim.url), budgets: { tenants: { acme: { budgetUsd: 1_000, period: 'month' as const } } } };
    gw = await startGw(sim, { store: sqliteStore(dir.path), redisUrl: REDIS_URL, redisKeyPrefix: prefix, auth: 'disabled', router: { policy } });
  });
  after(async () => {
    await gw?.close();
    await sim?.close();
    await deletePrefix(REDIS_URL, prefix);
    dir.remove();
  });

  test('under load (completions and streams at once), each answer ends after its XADD went out on the Redis connection', async () => {
    const writes: Written[] = [];
    const redis = gw.app.get(GatewayRedis).client!;
    noteWrites(redis.stream as Socket, 0, writes);
    let sockets = 0;
    gw.app.getHttpServer().on('connection', (socket: Socket) => noteWrites(socket, ++sockets, writes));

    const ids: string[] = [];
    const xaddsPerWrite = () => writes.filter((w) => w.socket === 0).map((w) => w.text.match(/\bxadd\b/gi)?.length ?? 0);
    // At least 4 rounds; more (up to 20) until some entries shared a write, which a fast idle host may not give in 4.
    for (let round = 0; round < 20 && (round < 4 || Math.max(0, ...xaddsPerWrite()) < 2); round++) {
      const answers = await Promise.all(
        Array.from({ length: 24 }, async (_, i) => {
          const stream = i % 4 === 0;
          const res = await fetch(`${gw.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-tenant-id': 'acme' },
            body: JSON.stringify({ messages: [{ role: 'user', content: `call ${round}.${i}` }], ...(stream ? { stream: true } : {}) }),
          });
          await res.text();
          assert.equal(res.status, 200);
          return res.headers.get('x-llm-request-id')!;
        }),
      );
      ids.push(...answers);
    }

    // A response's last bytes: the last write on its connection before the next response there starts (or the connection's last).
    const lastWriteOf = new Map<string, number>();
    const current = new Map<number, string>();
    writes.forEach((w, at) => {
      if (w.socket === 0) return;
      const id = /x-llm-request-id: ([^\r\n]+)/i.exec(w.text)?.[1];
      if (id !== undefined) current.set(w.socket, id);
      const of = current.get(w.socket);
      if (of !== undefined) lastWriteOf.set(of, at);
    });
    const xaddOf = (id: string) => writes.findIndex((w) => w.socket === 0 && w.text.includes(id));
    const early = ids.filter((id) => !(xaddOf(id) >= 0 && xaddOf(id) < lastWriteOf.get(id)!));
    assert.deepEqual(early, [], "answers whose last bytes left before their record's XADD");
    assert.ok(ids.length >= 96);
    assert.ok(Math.max(...xaddsPerWrite()) > 1, 'some entries shared a write: the load this test is about');
  });
});
