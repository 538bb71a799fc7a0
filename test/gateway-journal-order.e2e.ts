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
import { callsUnderLoad } from './support/journal-order-load.js';
import { endedBeforeTheirJournalWrite, noteWrites, type Written } from './support/socket-writes.js';

const available = await redisAvailable();

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

    const xaddsPerWrite = () => writes.filter((w) => w.socket === 0).map((w) => w.text.match(/\bxadd\b/gi)?.length ?? 0);
    const ids = await callsUnderLoad(gw.url, () => Math.max(0, ...xaddsPerWrite()) > 1);

    const early = endedBeforeTheirJournalWrite(writes, ids);
    assert.deepEqual(early, [], "answers whose last bytes left before their record's XADD");
    assert.ok(ids.length >= 96);
    assert.ok(Math.max(...xaddsPerWrite()) > 1, 'some entries shared a write: the load this test is about');
  });
});
