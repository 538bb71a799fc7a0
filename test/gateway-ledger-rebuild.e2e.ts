/**
 * A Redis that lost the budget ledger must not hand a tenant its budget
 * again. "Restarted empty" is simulated on the shared Redis by deleting the
 * test prefix's keys (the tenants' markers go with them); "restarted from an
 * older snapshot" on a redis-server of the test's own (SAVE, spend more,
 * SHUTDOWN NOSAVE, start again: the marker is there, the spend is stale, the
 * run id is new). Each time the first budgeted call after the loss is refused,
 * because the gateway rebuilt the tenant (and its keys' own budgets) from the
 * routing records first: on a SQLite store, and on PostgreSQL with the call
 * sent to another instance than the one that spent. /health says whether
 * Redis persists its data (CONFIG GET, or INFO where CONFIG is disabled).
 * Real Redis, real PostgreSQL, real HTTP, the simulator.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import {
  call,
  chat,
  createKey,
  oneWorstCaseUsd,
  postgresOrSkip,
  setBudget,
  sqliteGateway,
  sqliteStore,
  startGw,
  startSim,
  tempDir,
  until,
  ADMIN_KEY,
  type Gw,
  type SimulatorHandle,
} from './gateway-support/harness.js';
import { deletePrefix, privateRedisOrSkip, REDIS_URL, redisAvailable, type PrivateRedis } from './support/services.js';

const redis = await redisAvailable();
const pgStore = await postgresOrSkip();
const SPEND = { max_tokens: 20 };

/** Calls through `gws` in turn until the budget refuses one; the statuses. */
async function drain(gws: Gw[], key: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < 30 && !statuses.includes(402); i++) statuses.push((await chat(gws[i % gws.length]!, key, `spend ${i}`, SPEND)).status);
  assert.deepEqual([...new Set(statuses)], [200, 402], `served, then refused (${statuses.join(',')})`);
  return statuses;
}

const spentOf = async (gw: Gw, tenant: string): Promise<number> => (await call(gw.url, `/admin/tenants/${tenant}/budget`, { key: ADMIN_KEY })).json.spentUsd;

function assertQuotaRefusal(res: { status: number; text: string; json: any }, what: string): void {
  assert.equal(res.status, 402, `${what}: ${res.text}`);
  assert.equal(res.json.error.code, 'insufficient_quota', what);
}

describe('a Redis that lost the ledger, on a SQLite store', { skip: redis !== true ? redis : false }, () => {
  const prefix = `llmr-test-${randomUUID()}:`;
  let env: Awaited<ReturnType<typeof sqliteGateway>> | undefined;

  before(async () => {
    env = await sqliteGateway({ redisUrl: REDIS_URL, redisKeyPrefix: prefix });
  });
  after(async () => {
    await env?.close();
    await deletePrefix(REDIS_URL, prefix);
  });

  test('the first budgeted call after the loss is refused: the tenant and its keys are rebuilt from the records first', async () => {
    const gw = env!.gw;
    const tenant = `drained-${randomUUID()}`;
    const { key } = await createKey(gw, { tenant });
    const perCall = oneWorstCaseUsd(gw, 'premium-a', 'spend 0', SPEND);
    await setBudget(gw, tenant, { budgetUsd: perCall * 3 });
    // A key with room for one worst case, on a tenant without a budget.
    const capped = await createKey(gw, { tenant: `keyed-${randomUUID()}`, budget: { budgetUsd: oneWorstCaseUsd(gw, 'premium-a', 'spend it', SPEND), period: 'month' } });
    await drain([gw], key);
    assert.equal((await chat(gw, capped.key, 'spend it', SPEND)).status, 200);
    const spent = await spentOf(gw, tenant);
    assert.ok(spent > 0);

    assert.ok((await deletePrefix(REDIS_URL, prefix)) > 0, 'the ledger was in Redis');
    assertQuotaRefusal(await chat(gw, key, 'after the loss', SPEND), 'the drained tenant');
    assertQuotaRefusal(await chat(gw, capped.key, 'spend it', SPEND), "the key's own budget");
    assert.ok((await spentOf(gw, tenant)) >= spent - 1e-9, 'the spend is back from the records');
  });
});

describe('a Redis that lost the ledger, two instances on PostgreSQL', { skip: redis !== true ? redis : 'skip' in pgStore ? pgStore.skip : false }, () => {
  const prefix = `llmr-test-${randomUUID()}:`;
  let sim: SimulatorHandle;
  let a: Gw;
  let b: Gw | undefined;

  before(async () => {
    if ('skip' in pgStore) return;
    sim = await startSim();
    a = await startGw(sim, { store: pgStore.store, redisUrl: REDIS_URL, redisKeyPrefix: prefix });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await sim?.close();
    if (!('skip' in pgStore)) await pgStore.drop();
    await deletePrefix(REDIS_URL, prefix);
  });

  test("the other instance rebuilds the tenant from every instance's records before serving it", async () => {
    const pg = pgStore as Exclude<typeof pgStore, { skip: string }>;
    const tenant = `drained-${randomUUID()}`;
    const { key } = await createKey(a, { tenant });
    await setBudget(a, tenant, { budgetUsd: oneWorstCaseUsd(a, 'premium-a', 'spend 0', SPEND) * 3 });
    // b reads the key and the budget at its start; it refreshes nothing after (no reconcile comes to the rescue).
    b = await startGw(sim, { store: pg.store, redisUrl: REDIS_URL, redisKeyPrefix: prefix });
    await drain([a, b], key);
    const spent = await spentOf(a, tenant);
    // a's last records written (a restart is rarely within a flush interval of the last call).
    assert.equal((await call(a.url, '/v1/usage', { key })).status, 200);

    assert.ok((await deletePrefix(REDIS_URL, prefix)) > 0);
    assertQuotaRefusal(await chat(b, key, 'after the loss', SPEND), 'through b');
    assertQuotaRefusal(await chat(a, key, 'after the loss', SPEND), 'through a');
    assert.ok((await spentOf(b, tenant)) >= spent - 1e-9, 'the spend is back from the records of both instances');
  });
});

describe('a Redis of its own, restarted', () => {
  let sim: SimulatorHandle;
  let dir: ReturnType<typeof tempDir>;
  let server: PrivateRedis | { skip: string };
  let gw: Gw | undefined;

  before(async () => {
    dir = tempDir();
    server = await privateRedisOrSkip(dir.path, ['--save', '', '--appendonly', 'no', '--dbfilename', 'ledger.rdb']);
    if ('skip' in server) return;
    await server.start();
    sim = await startSim();
  });
  after(async () => {
    await gw?.close();
    if (server && !('skip' in server)) await server.stop();
    await sim?.close();
    dir?.remove();
  });

  test('from an older snapshot (the marker there, the spend stale): the new run id has the tenant rebuilt before it is served', async (t) => {
    if ('skip' in server) return t.skip(server.skip);
    const redisServer = server;
    gw = await startGw(sim, { store: sqliteStore(dir.path), redisUrl: redisServer.url, redisKeyPrefix: 'llmr:' });
    const tenant = `snapshot-${randomUUID()}`;
    const { key } = await createKey(gw, { tenant });
    await setBudget(gw, tenant, { budgetUsd: oneWorstCaseUsd(gw, 'premium-a', 'spend 0', SPEND) * 3 });
    assert.equal((await chat(gw, key, 'before the snapshot', SPEND)).status, 200);
    const admin = new Redis(redisServer.url);
    try {
      assert.equal(await admin.call('SAVE'), 'OK');
    } finally {
      admin.disconnect();
    }
    await drain([gw], key);

    await redisServer.stop();
    await redisServer.start();
    await until(async () => (await call(gw!.url, '/health')).json?.details?.redis?.status === 'up', 'the gateway back on Redis', 10_000);
    assertQuotaRefusal(await chat(gw, key, 'after the restart', SPEND), 'the tenant after the restart');
    const health = await call(gw.url, '/health');
    assert.equal(health.json.details.redis.persistence, 'none', health.text);
    assert.match(health.json.details.redis.warning, /without persistence/);
  });

  test('/health reads the persistence from INFO when CONFIG is disabled', async (t) => {
    if ('skip' in server) return t.skip(server.skip);
    const aofDir = tempDir();
    const aof = await privateRedisOrSkip(aofDir.path, ['--save', '', '--appendonly', 'yes', '--rename-command', 'CONFIG', '']);
    if ('skip' in aof) return t.skip(aof.skip);
    await aof.start();
    const other = await startGw(sim, { store: sqliteStore(aofDir.path), redisUrl: aof.url, redisKeyPrefix: 'llmr:' });
    try {
      const health = await call(other.url, '/health');
      assert.equal(health.json.details.redis.status, 'up', health.text);
      assert.equal(health.json.details.redis.persistence, 'aof', health.text);
      assert.equal(health.json.details.redis.warning, undefined);
    } finally {
      await other.close();
      await aof.stop();
      aofDir.remove();
    }
  });
});
