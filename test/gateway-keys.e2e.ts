/**
 * Scoped API keys over real HTTP on a SQLite file: class and model scopes,
 * tenant isolation of usage (a header cannot switch tenant), keys stored
 * only as SHA-256 hashes, revocation (at once here, within the refresh
 * interval on another instance), expiry, a key's own budget, and the admin
 * credential.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  ADMIN_KEY,
  call,
  chat,
  createKey,
  oneWorstCaseUsd,
  sqliteStore,
  startGw,
  startSim,
  tempDir,
  until,
  type CreatedKey,
  type Gw,
  type SimulatorHandle,
} from './gateway-support/harness.js';

let sim: SimulatorHandle;
let gw: Gw;
let dir: ReturnType<typeof tempDir>;
let dbPath: string;

before(async () => {
  sim = await startSim();
  dir = tempDir();
  const store = sqliteStore(dir.path);
  dbPath = store.kind === 'sqlite' ? store.path : '';
  gw = await startGw(sim, { store });
});
after(async () => {
  await gw.close();
  await sim.close();
  dir.remove();
});
beforeEach(() => {
  sim.clearFaults();
  sim.resetStats();
});

describe('class scope', () => {
  let key: CreatedKey;
  before(async () => {
    key = await createKey(gw, { tenant: 'scoped', allowedClasses: ['general', 'cheap'], defaultClass: 'cheap' });
  });

  test("no class named: the key's default class", async () => {
    const res = await chat(gw, key.key, 'hi');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-llm-traffic-class'), 'cheap');
    assert.ok(['economy-1', 'standard-1'].includes(res.headers.get('x-llm-model') ?? ''));
  });

  test('a query string on the route (as some clients send api-version) changes nothing', async () => {
    const res = await call(gw.url, '/v1/chat/completions?api-version=2024-10-21', { key: key.key, body: { messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-llm-traffic-class'), 'cheap');
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  });

  test('x-traffic-class of an allowed class: used', async () => {
    const res = await chat(gw, key.key, 'hi', {}, { 'x-traffic-class': 'general' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-llm-traffic-class'), 'general');
  });

  test('x-traffic-class of a class outside the key: 403 traffic_class_not_allowed, no upstream call', async () => {
    const res = await chat(gw, key.key, 'hi', {}, { 'x-traffic-class': 'support-chat' });
    assert.equal(res.status, 403);
    assert.equal(res.json.error.type, 'permission_error');
    assert.equal(res.json.error.code, 'traffic_class_not_allowed');
    assert.equal(res.json.error.param, 'x-traffic-class');
    assert.match(res.json.error.message, /support-chat.*general, cheap/);
    assert.equal(sim.stats().requests, 0);
  });

  test('an unknown class: 400 unknown_traffic_class', async () => {
    const res = await chat(gw, key.key, 'hi', {}, { 'x-traffic-class': 'nope' });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.code, 'unknown_traffic_class');
  });

  test('a class named as model that the key may not use: 403', async () => {
    const res = await chat(gw, key.key, 'hi', { model: 'batch-summaries' });
    assert.equal(res.status, 403);
    assert.equal(res.json.error.code, 'traffic_class_not_allowed');
  });
});

describe('model scope', () => {
  let key: CreatedKey;
  before(async () => {
    key = await createKey(gw, { tenant: 'scoped', allowedModels: ['premium-a', 'premium-b'] });
  });

  test('the key resolves to the classes whose whole route is allowed', () => {
    assert.deepEqual((key.effective as { classes: string[] }).classes.sort(), ['general', 'support-chat']);
  });

  test('an allowed model pinned: served by it', async () => {
    const res = await chat(gw, key.key, 'hi', { model: 'premium-b' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-llm-model'), 'premium-b');
  });

  test('a model outside the key: 403 model_not_allowed; an unknown model: 404 model_not_found', async () => {
    const outside = await chat(gw, key.key, 'hi', { model: 'standard-1' });
    assert.equal(outside.status, 403);
    assert.equal(outside.json.error.code, 'model_not_allowed');
    assert.equal(outside.json.error.param, 'model');
    const unknown = await chat(gw, key.key, 'hi', { model: 'gpt-unknown' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'model_not_found');
    assert.equal(sim.stats().requests, 0);
  });

  test('a class whose fallback would leave the allowed models: 403 (a fallback never serves a key from a model it may not use)', async () => {
    const res = await chat(gw, key.key, 'hi', {}, { 'x-traffic-class': 'batch-summaries' });
    assert.equal(res.status, 403);
  });

  test('GET /v1/models and /v1/models/:id follow the scope', async () => {
    const list = await call(gw.url, '/v1/models', { key: key.key });
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.data.map((m: { id: string }) => m.id).sort(), ['general', 'premium-a', 'premium-b', 'support-chat']);
    assert.equal((await call(gw.url, '/v1/models/premium-a', { key: key.key })).status, 200);
    const hidden = await call(gw.url, '/v1/models/standard-1', { key: key.key });
    assert.equal(hidden.status, 404);
    assert.equal(hidden.json.error.code, 'model_not_found');
  });

  test('creating a key whose models leave no usable class: 400', async () => {
    const res = await call(gw.url, '/admin/keys', { key: ADMIN_KEY, body: { tenant: 'x', allowedModels: ['premium-a'] } });
    assert.equal(res.status, 400);
    assert.equal(res.json.error.param, 'allowedModels');
  });
});

describe('tenant isolation', () => {
  test('usage shows only the key\'s tenant; x-tenant-id cannot switch tenant', async () => {
    const red = await createKey(gw, { tenant: 'red' });
    const blue = await createKey(gw, { tenant: 'blue' });
    for (let i = 0; i < 3; i++) assert.equal((await chat(gw, red.key, `red ${i}`)).status, 200);
    // A header naming another tenant is ignored: the call is blue's.
    assert.equal((await chat(gw, blue.key, 'blue 0', {}, { 'x-tenant-id': 'red' })).status, 200);

    const redUsage = await call(gw.url, '/v1/usage', { key: red.key });
    const blueUsage = await call(gw.url, '/v1/usage', { key: blue.key, headers: { 'x-tenant-id': 'red' } });
    assert.equal(redUsage.status, 200);
    assert.equal(redUsage.json.tenant, 'red');
    assert.equal(redUsage.json.totals.requests, 3);
    assert.equal(blueUsage.json.tenant, 'blue');
    assert.equal(blueUsage.json.totals.requests, 1);
    assert.deepEqual(blueUsage.json.byKey.map((k: { key: string }) => k.key), [blue.id]);
    const redCost = gw.records.filter((r) => r.tenant === 'red').reduce((s, r) => s + r.costUsd, 0);
    assert.ok(Math.abs(redUsage.json.totals.costUsd - redCost) < 1e-9);
  });

  test('a key can neither list keys nor reach the admin API', async () => {
    const k = await createKey(gw, { tenant: 'red' });
    const res = await call(gw.url, '/admin/keys', { key: k.key });
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'invalid_admin_key');
  });
});

describe('hashing', () => {
  test('the store holds the SHA-256 of each key and never the key; listings show neither', async () => {
    const created = await createKey(gw, { tenant: 'hashing', name: 'hash me' });
    assert.match(created.key, /^llmr_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/);
    assert.ok(created.key.startsWith(`llmr_${created.id}_`));

    const db = new Database(dbPath, { readonly: true });
    try {
      const row = db.prepare('SELECT * FROM llm_api_keys WHERE id = ?').get(created.id) as Record<string, unknown>;
      assert.equal(row.key_hash, createHash('sha256').update(created.key).digest('hex'));
      for (const value of Object.values(row)) assert.ok(!String(value).includes(created.key.slice(18)), 'a stored column holds the secret');
    } finally {
      db.close();
    }
    // Nowhere in the database file either (WAL included).
    const secretPart = created.key.slice(18);
    for (const file of [dbPath, `${dbPath}-wal`]) {
      let bytes = '';
      try {
        bytes = readFileSync(file).toString('latin1');
      } catch {
        continue;
      }
      assert.ok(!bytes.includes(secretPart), `${file} contains the secret`);
    }

    const listed = await call(gw.url, '/admin/keys?tenant=hashing', { key: ADMIN_KEY });
    assert.equal(listed.status, 200);
    assert.equal(listed.json.data.length, 1);
    assert.ok(!listed.text.includes(secretPart));
    assert.ok(!listed.text.includes(createHash('sha256').update(created.key).digest('hex')));
    assert.equal(listed.json.data[0].id, created.id);
  });

  test('a key with the right id and a wrong secret: 401 invalid_api_key', async () => {
    const created = await createKey(gw, { tenant: 'hashing' });
    const forged = `llmr_${created.id}_${'B'.repeat(43)}`;
    const res = await chat(gw, forged, 'hi');
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'invalid_api_key');
  });
});

describe('revocation and expiry', () => {
  test('a revoked key is refused at once: 401 revoked_api_key', async () => {
    const k = await createKey(gw, { tenant: 'revoke' });
    assert.equal((await chat(gw, k.key, 'before')).status, 200);
    const revoked = await call(gw.url, `/admin/keys/${k.id}/revoke`, { method: 'POST', key: ADMIN_KEY });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.json.status, 'revoked');
    const res = await chat(gw, k.key, 'after');
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'revoked_api_key');
    assert.equal((await call(gw.url, '/v1/models', { key: k.key })).status, 401);
    assert.equal((await call(gw.url, '/admin/keys/nope/revoke', { method: 'POST', key: ADMIN_KEY })).status, 404);
  });

  test('a revocation made on another instance sharing the store is picked up within the refresh interval', async () => {
    const other = await startGw(sim, { store: sqliteStore(dir.path), keysRefreshMs: 50 });
    try {
      const k = await createKey(gw, { tenant: 'revoke' });
      await until(async () => (await chat(other, k.key, 'hi')).status === 200, 'the other instance to load the new key');
      assert.equal((await call(gw.url, `/admin/keys/${k.id}`, { method: 'DELETE', key: ADMIN_KEY })).status, 200);
      await until(async () => (await chat(other, k.key, 'hi')).status === 401, 'the other instance to see the revocation');
    } finally {
      await other.close();
    }
  });

  test('an expired key: 401 expired_api_key; before expiry it works', async () => {
    const past = await createKey(gw, { tenant: 'expiry', expiresAt: new Date(Date.now() - 1000).toISOString() });
    const res = await chat(gw, past.key, 'hi');
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'expired_api_key');

    const soon = await createKey(gw, { tenant: 'expiry', expiresInSeconds: 1 });
    assert.equal((await chat(gw, soon.key, 'hi')).status, 200);
    await until(async () => (await chat(gw, soon.key, 'hi')).status === 401, 'the key to expire', 3_000);
    const listed = await call(gw.url, `/admin/keys/${soon.id}`, { key: ADMIN_KEY });
    assert.equal(listed.json.status, 'expired');
  });
});

describe("a key's own budget", () => {
  test('once its budget cannot take another worst case, the key is refused with 402 insufficient_quota; another key of the tenant is not', async () => {
    const capped = await createKey(gw, { tenant: 'budgeted', budget: { budgetUsd: oneWorstCaseUsd(gw, 'premium-a', 'spend it'), period: 'day' } });
    const free = await createKey(gw, { tenant: 'budgeted' });
    assert.equal((await chat(gw, capped.key, 'spend it')).status, 200);
    const refused = await chat(gw, capped.key, 'spend it');
    assert.equal(refused.status, 402);
    assert.equal(refused.json.error.code, 'insufficient_quota');
    assert.equal(refused.json.error.category, 'budget_exhausted');
    assert.equal(refused.headers.get('x-should-retry'), 'false');
    assert.match(refused.json.error.message, new RegExp(capped.id));
    assert.equal((await chat(gw, free.key, 'still fine')).status, 200);
    const usage = await call(gw.url, '/v1/usage', { key: capped.key });
    assert.equal(usage.json.key.id, capped.id);
    assert.ok(usage.json.key.budget.spentUsd > 0);
  });
});

describe('admin credential', () => {
  test('missing or wrong admin key: 401', async () => {
    assert.equal((await call(gw.url, '/admin/keys')).status, 401);
    const wrong = await call(gw.url, '/admin/keys', { key: 'not-the-admin-key-at-all' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error.code, 'invalid_admin_key');
  });

  test('wrong admin credentials: after 10 from one address, every attempt from it is refused with 429 (the right key too, and on the console login); calls with no credential count for nothing; API keys still work', async () => {
    const guarded = await startGw(sim);
    try {
      for (let i = 0; i < 15; i++) assert.equal((await call(guarded.url, '/admin/keys')).status, 401);
      assert.equal((await call(guarded.url, '/admin/keys', { key: ADMIN_KEY })).status, 200, 'calls without a credential guessed nothing');
      const k = await createKey(guarded, { tenant: 'guessed' });
      for (let i = 0; i < 10; i++) {
        const wrong = await call(guarded.url, '/admin/keys', { key: `wrong-admin-key-number-${i}` });
        assert.equal(wrong.status, 401, `guess ${i + 1}`);
        assert.equal(wrong.json.error.code, 'invalid_admin_key');
      }
      const locked = await call(guarded.url, '/admin/keys', { key: ADMIN_KEY });
      assert.equal(locked.status, 429);
      assert.equal(locked.json.error.type, 'rate_limit_error');
      assert.equal(locked.json.error.code, 'too_many_failed_credentials');
      const retryAfter = Number(locked.headers.get('retry-after'));
      assert.ok(retryAfter > 800 && retryAfter <= 900, `retry-after ${retryAfter}`);
      const login = await fetch(`${guarded.url}/console/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ adminKey: ADMIN_KEY }), redirect: 'manual' });
      assert.equal(login.status, 429);
      assert.equal(login.headers.get('set-cookie'), null);
      assert.match(await login.text(), /Too many wrong admin credentials/);
      assert.equal((await chat(guarded, k.key, 'hi')).status, 200, 'API keys are not affected');
      const forwarded = await call(guarded.url, '/admin/keys', { key: ADMIN_KEY, headers: { 'x-forwarded-for': '203.0.113.9' } });
      assert.equal(forwarded.status, 429, 'without LLM_TRUST_PROXY a forwarded address is not believed');
    } finally {
      await guarded.close();
    }
  });

  test('behind a trusted proxy (LLM_TRUST_PROXY), wrong admin credentials count against the client X-Forwarded-For names, not the proxy', async () => {
    const proxied = await startGw(sim, { trustProxy: ['loopback'] });
    try {
      const from = (address: string) => ({ 'x-forwarded-for': address });
      for (let i = 0; i < 10; i++) assert.equal((await call(proxied.url, '/admin/keys', { key: `wrong-admin-key-number-${i}`, headers: from('203.0.113.5') })).status, 401);
      assert.equal((await call(proxied.url, '/admin/keys', { key: ADMIN_KEY, headers: from('203.0.113.5') })).status, 429, 'the guessing client is refused');
      assert.equal((await call(proxied.url, '/admin/keys', { key: ADMIN_KEY, headers: from('203.0.113.6') })).status, 200, 'another client behind the same proxy is not');
      assert.equal((await call(proxied.url, '/admin/keys', { key: ADMIN_KEY })).status, 200, 'nor the proxy itself');
    } finally {
      await proxied.close();
    }
  });

  test('no admin key configured: the admin API answers 403 admin_api_disabled', async () => {
    const closed = await startGw(sim, { adminKey: undefined });
    try {
      const res = await call(closed.url, '/admin/keys', { key: ADMIN_KEY });
      assert.equal(res.status, 403);
      assert.equal(res.json.error.code, 'admin_api_disabled');
      assert.match(res.json.error.message, /LLM_ADMIN_KEY/);
    } finally {
      await closed.close();
    }
  });
});
