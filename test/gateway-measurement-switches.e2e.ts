/**
 * LLM_RECORDS=false and LLM_METRICS=false, the switches `npm run bench`
 * measures each feature's cost with: beside a gateway with both on (the
 * default), a call through a gateway with both off is served, the router
 * still emits its routing record, but nothing is stored (usage counts no
 * call) and the Prometheus request series stays empty.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_KEY, call, chat, createKey, startGw, startSim, type Gw, type SimulatorHandle } from './gateway-support/harness.js';

describe('measurement switches: records and metrics off', () => {
  let sim: SimulatorHandle;
  let on: Gw;
  let off: Gw;

  before(async () => {
    sim = await startSim();
    on = await startGw(sim);
    off = await startGw(sim, { records: false, metrics: false });
  });
  after(async () => {
    await on?.close();
    await off?.close();
    await sim?.close();
  });

  /** One served call through `gw`, then its tenant's usage and the request series. */
  async function oneCall(gw: Gw) {
    const { key } = await createKey(gw, { tenant: 'acme' });
    const res = await chat(gw, key, 'Where is my order?');
    assert.equal(res.status, 200, res.text);
    const usage = await call(gw.url, '/v1/usage', { key });
    assert.equal(usage.status, 200, usage.text);
    const metrics = await call(gw.url, '/metrics');
    const served = metrics.text.split('\n').filter((l) => l.startsWith('llm_gateway_requests_total{') && l.includes('outcome="success"'));
    return { requests: usage.json.totals.requests as number, served, emitted: gw.records.length };
  }

  test('both on (the default): the call is stored and counted in the series', async () => {
    const r = await oneCall(on);
    assert.equal(r.emitted, 1);
    assert.equal(r.requests, 1);
    assert.equal(r.served.length, 1, 'one success series');
    assert.match(r.served[0]!, / 1$/);
  });

  test('both off: the call is served and its record emitted, but neither stored nor counted', async () => {
    const r = await oneCall(off);
    assert.equal(r.emitted, 1, 'the router still emits the routing record');
    assert.equal(r.requests, 0, 'no record stored');
    assert.deepEqual(r.served, [], 'no request series fed');
    const report = await call(off.url, '/admin/report', { key: ADMIN_KEY });
    assert.equal(report.status, 200, report.text);
    assert.equal(report.json.totals.requests, 0);
  });
});
