/**
 * An API key's own budget is a reservation, like a tenant's: each attempt's
 * worst case is reserved on it before the call, the actual cost settled after
 * and the rest released (all of it on failure). Concurrent calls on one key
 * therefore cannot spend more than its budget: in one instance (the
 * in-process ledger) and across two instances sharing Redis (one atomic
 * script). Spend is measured from the routing records. Real HTTP, real Redis,
 * real PostgreSQL, the simulator.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { chat, createKey, oneWorstCaseUsd, postgresOrSkip, simFault, sqliteGateway, startGw, startSim, type Gw, type SimulatorHandle } from './gateway-support/harness.js';
import { deletePrefix, REDIS_URL, redisAvailable } from './support/services.js';

const redis = await redisAvailable();
const pgStore = await postgresOrSkip();
/** The reply to `call N` is about 11 tokens: each call costs less than its worst case, but not much less. */
const CALL = { max_tokens: 16 };
const CONCURRENT = 12;

/** `CONCURRENT` calls at once on `key`, spread over `gws`; the statuses, and what the records say they cost. */
async function burst(gws: Gw[], key: string): Promise<{ statuses: number[]; spentUsd: number }> {
  const before = gws.map((gw) => gw.records.length);
  const responses = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => chat(gws[i % gws.length]!, key, `call ${i % 10}`, CALL)));
  for (const r of responses) assert.ok(r.status === 200 || (r.status === 402 && r.json.error.code === 'insufficient_quota'), `${r.status} ${r.text}`);
  const spentUsd = gws.flatMap((gw, i) => gw.records.slice(before[i])).reduce((sum, r) => sum + (r.costUsd ?? 0), 0);
  return { statuses: responses.map((r) => r.status), spentUsd };
}

describe("a key's own budget is reserved: one instance, the in-process ledger", () => {
  let env: Awaited<ReturnType<typeof sqliteGateway>> | undefined;
  let gw: Gw;

  before(async () => {
    env = await sqliteGateway();
    gw = env.gw;
  });
  after(() => env?.close());

  test('concurrent calls on one key never spend more than its budget', async () => {
    const budgetUsd = oneWorstCaseUsd(gw, 'premium-a', 'call 0', CALL) * 3;
    const { key } = await createKey(gw, { tenant: `burst-${randomUUID()}`, budget: { budgetUsd, period: 'day' } });
    const { statuses, spentUsd } = await burst([gw], key);
    assert.ok(statuses.includes(200) && statuses.includes(402), statuses.join(','));
    assert.ok(spentUsd <= budgetUsd, `spent $${spentUsd} of the key's $${budgetUsd}`);
  });

  test('a failed call releases what it reserved on the key', async () => {
    const failing = `call 0 ${simFault('premium-a', { status: 503 })} ${simFault('premium-b', { status: 503 })}`;
    const { key } = await createKey(gw, { tenant: `release-${randomUUID()}`, budget: { budgetUsd: oneWorstCaseUsd(gw, 'premium-a', failing, CALL), period: 'day' } });
    const failed = await chat(gw, key, failing, CALL);
    assert.equal(failed.status, 502, failed.text);
    // A message as long has the same worst case, the whole budget: it fits only if nothing stayed reserved or booked.
    assert.equal((await chat(gw, key, 'x'.repeat(failing.length), CALL)).status, 200);
  });
});

describe("a key's own budget is reserved: two instances sharing PostgreSQL and Redis", { skip: redis !== true ? redis : 'skip' in pgStore ? pgStore.skip : false }, () => {
  const prefix = `llmr-test-${randomUUID()}:`;
  let sim: SimulatorHandle;
  const gws: Gw[] = [];

  before(async () => {
    if (!('skip' in pgStore)) sim = await startSim();
  });
  after(async () => {
    for (const gw of gws) await gw.close();
    await sim?.close();
    if (!('skip' in pgStore)) await pgStore.drop();
    await deletePrefix(REDIS_URL, prefix);
  });

  test('concurrent calls on one key through both instances never spend more than its budget', async () => {
    const pg = pgStore as Exclude<typeof pgStore, { skip: string }>;
    const options = { store: pg.store, redisUrl: REDIS_URL, redisKeyPrefix: prefix };
    gws.push(await startGw(sim, options));
    const budgetUsd = oneWorstCaseUsd(gws[0]!, 'premium-a', 'call 0', CALL) * 3;
    const { key } = await createKey(gws[0]!, { tenant: `fleet-${randomUUID()}`, budget: { budgetUsd, period: 'day' } });
    // The second instance reads the key from the shared store at its start.
    gws.push(await startGw(sim, options));
    const { statuses, spentUsd } = await burst(gws, key);
    assert.ok(statuses.includes(200) && statuses.includes(402), statuses.join(','));
    assert.ok(spentUsd <= budgetUsd, `spent $${spentUsd} of the key's $${budgetUsd}`);
  });
});
