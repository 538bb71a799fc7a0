/**
 * Several gateway instances on one store: a policy changed through one
 * reaches the others within the documented bound: through the Redis notice
 * (about a round trip: the test allows 1 s), else through the periodic look
 * at the store's history (`policySyncMs`). A late instance starting on the
 * old policy takes the newest version. /health shows each instance's version.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { ADMIN_KEY, call, chat, createKey, postgresOrSkip, sqliteStore, startGw, startSim, tempDir, testPolicy, until, type Gw, type SimulatorHandle } from './gateway-support/harness.js';
import { deletePrefix, REDIS_URL, redisAvailable } from './support/services.js';

const redis = await redisAvailable();
const pgStore = await postgresOrSkip();
const skipShared = redis !== true ? redis : 'skip' in pgStore ? pgStore.skip : false;

async function healthVersion(gw: Gw): Promise<string> {
  return (await call(gw.url, '/health')).json.details['llm-router'].policyVersion as string;
}

function withClass(sim: SimulatorHandle, name: string) {
  const policy = testPolicy(sim.url);
  policy.classes[name] = { criticality: 'standard', route: ['standard-1'] };
  return policy;
}

describe('instances on PostgreSQL and Redis converge on the Redis notice', { skip: skipShared }, () => {
  const prefix = `llmr-test-${randomUUID()}:`;
  const started: { sim?: SimulatorHandle; gws: Gw[] } = { gws: [] };
  after(async () => {
    for (const gw of started.gws) await gw.close();
    await started.sim?.close();
    if (!('skip' in pgStore)) await pgStore.drop();
    await deletePrefix(REDIS_URL, prefix);
  });

  test('a PUT on one instance serves on the other within 1 s; a late instance starts on the newest version', async () => {
    if ('skip' in pgStore) return;
    const sim = (started.sim = await startSim());
    // The periodic check is set far out: only the notice can bring the change in time.
    const options = { store: pgStore.store, redisUrl: REDIS_URL, redisKeyPrefix: prefix, keysRefreshMs: 50, policySyncMs: 60_000, router: { policy: testPolicy(sim.url) } };
    const a = await startGw(sim, options);
    started.gws.push(a);
    const b = await startGw(sim, options);
    started.gws.push(b);
    assert.equal(await healthVersion(a), await healthVersion(b), 'the same content: the same version');

    const put = await call(a.url, '/admin/policy', { method: 'PUT', key: ADMIN_KEY, body: withClass(sim, 'fleet-class') });
    assert.equal(put.status, 200, put.text);
    await until(async () => (await healthVersion(b)) === put.json.version, 'instance b on the new version', 1_000);
    const { key } = await createKey(a, { tenant: 'fleet' });
    await until(async () => (await chat(b, key, 'hi', {}, { 'x-traffic-class': 'fleet-class' })).status === 200, 'the key and the class on b');
    const history = (await call(b.url, '/admin/policy/history', { key: ADMIN_KEY })).json;
    assert.equal(history.current, put.json.version);
    assert.deepEqual(history.data.map((v: { seq: number }) => v.seq), [2, 1]);

    // Started on the old document: the history's newest version wins.
    const c = await startGw(sim, options);
    started.gws.push(c);
    assert.equal(await healthVersion(c), put.json.version);
  });
});

describe('instances without Redis converge on the periodic check', () => {
  const dir = tempDir();
  const started: { sim?: SimulatorHandle; gws: Gw[] } = { gws: [] };
  after(async () => {
    for (const gw of started.gws) await gw.close();
    await started.sim?.close();
    dir.remove();
  });

  test('a PUT on one instance reaches the other within policySyncMs (+ a round)', async () => {
    const sim = (started.sim = await startSim());
    const syncMs = 300;
    const options = { store: sqliteStore(dir.path), policySyncMs: syncMs, router: { policy: testPolicy(sim.url) } };
    const a = await startGw(sim, options);
    started.gws.push(a);
    const b = await startGw(sim, options);
    started.gws.push(b);
    const put = await call(a.url, '/admin/policy', { method: 'PUT', key: ADMIN_KEY, body: withClass(sim, 'polled-class') });
    assert.equal(put.status, 200, put.text);
    await until(async () => (await healthVersion(b)) === put.json.version, 'instance b on the new version', 2 * syncMs + 500);
  });
});
