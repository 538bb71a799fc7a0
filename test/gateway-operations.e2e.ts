/**
 * Operations: Prometheus metrics with bounded labels, one structured JSON log
 * line per routed request with secrets redacted (and redacted in the
 * response and the store too), health with the store's connectivity, and the
 * open mode (LLM_AUTH=disabled) where the tenant comes from x-tenant-id.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { call, chat, createKey, simFault, sqliteStore, startGw, startSim, tempDir, until, type CreatedKey, type Gw, type SimulatorHandle } from './gateway-support/harness.js';

let sim: SimulatorHandle;
let gw: Gw;
let key: CreatedKey;
let dir: ReturnType<typeof tempDir>;
const logLines: string[] = [];
const PROVIDER_SECRET = 'sk-proj-AbCdEf0123456789xyz';

before(async () => {
  sim = await startSim();
  dir = tempDir();
  gw = await startGw(sim, {
    store: sqliteStore(dir.path),
    requestLog: true,
    requestLogSink: (chunk) => logLines.push(...chunk.split('\n').filter((l) => l !== '')),
  });
  key = await createKey(gw, { tenant: 'ops' });
  assert.equal((await chat(gw, key.key, 'ok 1')).status, 200);
  assert.equal((await chat(gw, key.key, 'ok 2', {}, { 'x-feature': 'faq', 'x-session-id': 'sess-1' })).status, 200);
  assert.equal((await chat(gw, key.key, `fb ${simFault('premium-a', { error: 'overloaded' })}`)).status, 200);
  assert.equal((await chat(gw, key.key, 'floor', {}, { 'x-traffic-class': 'floored' })).status, 422);
  assert.equal((await chat(gw, 'llmr_bad', 'nope')).status, 401);
  sim.addFaults([{ match: { model: 'up-premium-a' }, times: 1, fault: { status: 400, body: { error: { message: `Invalid value for 'messages' (request of ${PROVIDER_SECRET})`, type: 'invalid_request_error', code: 'invalid_value' } } } }]);
  const leaked = await chat(gw, key.key, 'secret');
  assert.equal(leaked.status, 400);
  assert.ok(!leaked.text.includes(PROVIDER_SECRET), `the response echoed the provider secret: ${leaked.text}`);
  assert.match(leaked.json.error.message, /sk-\[redacted\]/);
});
after(async () => {
  await gw.close();
  await sim.close();
  dir.remove();
});

describe('/metrics behind LLM_METRICS_TOKEN', () => {
  const TOKEN = 'scrape-token-0123456789abcdef';
  let guarded: Gw;
  before(async () => {
    guarded = await startGw(sim, { metricsToken: TOKEN });
  });
  after(() => guarded.close());

  test('no token or a wrong one: 401 in the OpenAI shape; the token: the exposition', async () => {
    const wrong: Record<string, string>[] = [{}, { authorization: 'Bearer scrape-token-0123456789abcdeX' }, { authorization: TOKEN }];
    for (const headers of wrong) {
      const res = await call(guarded.url, '/metrics', { headers });
      assert.equal(res.status, 401, res.text);
      assert.equal(res.json.error.code, 'invalid_metrics_token');
      assert.equal(res.json.error.type, 'invalid_request_error');
      assert.ok('param' in res.json.error);
    }
    const ok = await call(guarded.url, '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /llm_gateway_auth_failures_total\{reason="invalid_metrics_token"\} 3/);
    // Health stays open for the orchestrator's probes.
    assert.equal((await call(guarded.url, '/health/live')).status, 200);
  });
});

describe('/metrics', () => {
  let text: string;
  before(async () => {
    const res = await call(gw.url, '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    text = res.text;
  });
  const value = (line: string) => {
    const found = text.split('\n').find((l) => l.startsWith(line + ' '));
    return found === undefined ? undefined : Number(found.slice(line.length + 1));
  };

  test('requests, attempts by category, fallbacks, refusals, spend, tokens, latency histogram', () => {
    assert.equal(value('llm_gateway_requests_total{class="general",provider="oa",model="premium-a",outcome="success"}'), 2);
    assert.equal(value('llm_gateway_requests_total{class="general",provider="an",model="premium-b",outcome="success"}'), 1);
    assert.equal(value('llm_gateway_attempts_total{class="general",provider="oa",model="premium-a",outcome="failure",category="transient"}'), 1);
    assert.equal(value('llm_gateway_fallbacks_total{class="general",provider="an",model="premium-b"}'), 1);
    assert.equal(value('llm_gateway_refusals_total{class="floored",category="quality_floor_unmet"}'), 1);
    assert.ok((value('llm_gateway_spend_usd_total{class="general",provider="oa",model="premium-a"}') ?? 0) > 0);
    assert.ok((value('llm_gateway_tokens_total{class="general",provider="oa",model="premium-a",kind="completion"}') ?? 0) > 0);
    assert.equal(value('llm_gateway_request_duration_seconds_count{class="general",provider="oa",model="premium-a"}'), 2);
    assert.equal(value('llm_gateway_request_duration_seconds_bucket{le="+Inf",class="general",provider="oa",model="premium-a"}'), 2);
    assert.equal(value('llm_gateway_auth_failures_total{reason="invalid_api_key"}'), 1);
    assert.equal(value('llm_gateway_circuit_open{model="premium-a"}'), 0);
    assert.ok((value('llm_gateway_records_pending') ?? -1) >= 0);
    assert.equal(value('llm_gateway_records_dropped'), 0);
    assert.ok(text.includes('llm_gateway_process_cpu_seconds_total'));
  });

  test('bounded labels: no tenant, key, session or request id anywhere', () => {
    const labelNames = new Set([...text.matchAll(/[{,]([a-z_]+)="/g)].map((m) => m[1]));
    for (const forbidden of ['tenant', 'key', 'key_id', 'session', 'request_id', 'feature']) assert.ok(!labelNames.has(forbidden), forbidden);
    assert.ok(!text.includes('ops') && !text.includes(key.id) && !text.includes('sess-1'));
  });
});

describe('request log', () => {
  test('one JSON line per routed request, with tenant, key id, class, target, fallback and cost', async () => {
    await until(() => logLines.length >= 5, 'five log lines', 2_000);
    const lines = logLines.map((l) => JSON.parse(l) as Record<string, any>);
    assert.equal(lines.length, gw.records.length);
    assert.ok(lines.every((l) => l.msg === 'llm.request' && typeof l.time === 'string'));
    const fallback = lines.find((l) => l.fallback === true)!;
    assert.equal(fallback.tenant, 'ops');
    assert.equal(fallback.keyId, key.id);
    assert.equal(fallback.model, 'premium-b');
    assert.deepEqual(fallback.attempts.map((a: { model: string; outcome: string }) => `${a.model}:${a.outcome}`), ['premium-a:failure', 'premium-b:success']);
    const withFeature = lines.find((l) => l.feature === 'faq')!;
    assert.equal(withFeature.session, 'sess-1');
    const floor = lines.find((l) => l.class === 'floored')!;
    assert.equal(floor.level, 'warn');
    assert.equal(floor.errorCategory, 'quality_floor_unmet');
  });

  test('secrets are redacted: no provider key, no gateway key, in the log or in the store', async () => {
    const all = logLines.join('\n');
    assert.ok(!all.includes(PROVIDER_SECRET));
    assert.ok(!all.includes(key.key.slice(18)));
    assert.ok(all.includes('sk-[redacted]'));
    await call(gw.url, '/v1/usage', { key: key.key }); // flushes the records
    const db = new Database(join(dir.path, 'gateway.sqlite'), { readonly: true });
    try {
      const messages = db.prepare('SELECT error_message FROM llm_routing_records WHERE error_message IS NOT NULL').all() as { error_message: string }[];
      assert.ok(messages.length >= 2);
      assert.ok(messages.every((m) => !m.error_message.includes(PROVIDER_SECRET)));
    } finally {
      db.close();
    }
  });
});

describe('health', () => {
  test('/health reports the router and the store; /health/ready the store; /health/live the process', async () => {
    const health = await call(gw.url, '/health');
    assert.equal(health.status, 200);
    assert.equal(health.json.status, 'ok');
    assert.equal(health.json.info.store.status, 'up');
    assert.equal(health.json.info.store.kind, 'sqlite');
    assert.equal(health.json.info['llm-router'].status, 'up');
    const ready = await call(gw.url, '/health/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.json.info.store.status, 'up');
    assert.deepEqual((await call(gw.url, '/health/live')).json, { status: 'ok' });
  });
});

describe('LLM_AUTH=disabled', () => {
  test('no key needed; the tenant comes from x-tenant-id; usage needs a tenant', async () => {
    const open = await startGw(sim, { auth: 'disabled' });
    try {
      const res = await chat(open, undefined, 'open', {}, { 'x-tenant-id': 'walk-in', 'x-traffic-class': 'support-chat' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-llm-traffic-class'), 'support-chat');
      assert.equal(open.records.at(-1)!.tenant, 'walk-in');
      const usage = await call(open.url, '/v1/usage', { headers: { 'x-tenant-id': 'walk-in' } });
      assert.equal(usage.json.totals.requests, 1);
      const noTenant = await call(open.url, '/v1/usage');
      assert.equal(noTenant.status, 400);
      assert.equal(noTenant.json.error.code, 'missing_tenant');
    } finally {
      await open.close();
    }
  });
});
