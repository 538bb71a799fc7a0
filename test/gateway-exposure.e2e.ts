/**
 * Issue #13, items 11-12: what a tenant's key can read and what the gateway
 * keeps. `/v1/policy` showed any tenant every provider's base URL; a key
 * pasted into `x-feature` or `x-session-id` was stored and logged verbatim.
 * Real gateway with the request log on, real simulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY, call, chat, createKey, setBudget, startGw, startSim, type Gw, type SimulatorHandle } from './gateway-support/harness.js';

let sim: SimulatorHandle;
let gw: Gw;
const logLines: string[] = [];

before(async () => {
  sim = await startSim();
  gw = await startGw(sim, { requestLog: true, requestLogSink: (chunk) => logLines.push(chunk) });
});
after(async () => {
  await gw.close();
  await sim.close();
});

describe('/v1/policy shows a key only what it may use', () => {
  test('a key limited to one class sees that class, its models and their providers by name; no base URLs, key variables or other tenants', async () => {
    await setBudget(gw, 'other-tenant', { budgetUsd: 5 });
    const key = await createKey(gw, { tenant: 'narrow', allowedClasses: ['cheap'] });
    const res = await call(gw.url, '/v1/policy', { key: key.key });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.json.classes), ['cheap']);
    assert.deepEqual(Object.keys(res.json.models).sort(), ['economy-1', 'standard-1']);
    assert.deepEqual(Object.keys(res.json.providers).sort(), ['an', 'oa']);
    assert.equal(res.json.defaultClass, 'cheap');
    for (const secret of ['baseUrl', sim.url, '127.0.0.1', 'apiKeyEnv', 'other-tenant', 'webhookUrl']) {
      assert.ok(!res.text.includes(secret), `the tenant's view mentions ${secret}`);
    }
  });

  test('the operator reads the whole policy at /admin/policy (admin credential only)', async () => {
    const res = await call(gw.url, '/admin/policy', { key: ADMIN_KEY });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.providers.oa.baseUrl, `${sim.url}/openai/v1`);
    assert.ok(Object.keys(res.json.classes).length >= 5);
    const key = await createKey(gw, { tenant: 'narrow' });
    assert.equal((await call(gw.url, '/admin/policy', { key: key.key })).status, 401);
  });
});

describe('secrets in x-feature and x-session-id are redacted before they are kept', () => {
  const pasted = 'llmr_abcdefghijkl_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
  const providerKey = 'sk-proj-abcdefghijklmnop0123456789';

  test('on /v1: the record, the stored row and the request log', async () => {
    const key = await createKey(gw, { tenant: 'pasted' });
    const res = await chat(gw, key.key, 'hi', {}, { 'x-feature': `oops ${pasted}`, 'x-session-id': providerKey });
    assert.equal(res.status, 200, res.text);
    const record = gw.records.find((r) => r.tenant === 'pasted')!;
    assert.equal(record.feature, 'oops llmr_[redacted]');
    assert.equal(record.session, 'sk-[redacted]');
    const usage = await call(gw.url, '/v1/usage?period=all', { key: key.key });
    assert.deepEqual(usage.json.byFeature.map((f: { key: string }) => f.key), ['oops llmr_[redacted]']);
    const log = logLines.join('');
    assert.ok(!log.includes(pasted) && !log.includes(providerKey), 'the request log kept a secret');
  });

  test('on a sample workflow', async () => {
    const key = await createKey(gw, { tenant: 'pasted-sample' });
    const res = await call(gw.url, '/support/chat', { key: key.key, body: { message: 'hi' }, headers: { 'x-feature': pasted, 'x-session-id': `s ${providerKey}` } });
    assert.equal(res.status, 200, res.text);
    const record = gw.records.find((r) => r.tenant === 'pasted-sample')!;
    assert.equal(record.feature, 'llmr_[redacted]');
    assert.equal(record.session, 's sk-[redacted]');
  });
});
