/**
 * OpenTelemetry traces (issue #17, telemetry). The gateway runs as `npm
 * start` runs it (main.js in a child process), configured only by the
 * standard OTEL_* variables, and exports to a real OTLP/HTTP receiver on
 * loopback in this test, which decodes what the SDK's exporter sends
 * (protobuf, the default, and OTLP/JSON with
 * `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`). One call with a
 * forced fallback, sent by the official OpenAI client with a `traceparent`:
 * one call span continuing the caller's trace, with its two attempt spans
 * under it, the GenAI semantic conventions' attributes and the router's own;
 * each upstream request carried its attempt's `traceparent`. Without the
 * variables, nothing is traced and nothing goes upstream.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { ADMIN_KEY, call, chat, createKey, setBudget, simFault, sqliteGateway, startSim, tempDir, testPolicy, until, type SimulatorHandle } from './gateway-support/harness.js';
import { gatewayBaseUrl, GATEWAY_MAIN, runMain, type MainProcess } from './gateway-support/main-process.js';
import { OtlpReceiver } from './gateway-support/otlp-receiver.js';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** OTLP span kinds (SPAN_KIND_*). */
const INTERNAL = 1;
const CLIENT = 3;
const STATUS_ERROR = 2;

interface SimRequest {
  traceparent?: string;
  body: { messages?: { content: unknown }[] };
}

async function simRequests(sim: SimulatorHandle, marker: string): Promise<SimRequest[]> {
  const res = await call(sim.url, '/_sim/requests');
  return (res.json.requests as SimRequest[]).filter((r) => JSON.stringify(r.body).includes(marker)).reverse();
}

// The exporter's default encoding (protobuf) and OTLP/JSON, each decoded by the receiver.
for (const protocol of ['http/protobuf', 'http/json'] as const) describe(`traces to an OTLP receiver (${protocol})`, () => {
  const receiver = new OtlpReceiver();
  const dir = tempDir();
  let sim: SimulatorHandle;
  let gw: MainProcess;
  let base = '';
  let key = '';

  before(async () => {
    sim = await startSim();
    const endpoint = await receiver.listen();
    const policyFile = join(dir.path, 'policy.json');
    writeFileSync(policyFile, JSON.stringify(testPolicy(sim.url)));
    gw = runMain(GATEWAY_MAIN, {
      PORT: '0',
      LLM_POLICY_FILE: policyFile,
      LLM_ADMIN_KEY: ADMIN_KEY,
      LLM_SQLITE_PATH: join(dir.path, 'g.sqlite'),
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_SERVICE_NAME: 'gateway-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    base = await gatewayBaseUrl(gw);
    key = (await createKey({ url: base }, { tenant: 'traced' })).key;
    await setBudget({ url: base }, 'traced', { budgetUsd: 5 });
  });
  after(async () => {
    await gw?.stop();
    await sim?.close();
    await receiver.close();
    dir.remove();
  });

  test('a forced fallback: one call span in the caller\'s trace, two attempt spans, the traceparent upstream', async () => {
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const marker = `traced ${hex(4)}`;
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: key, maxRetries: 0, defaultHeaders: { traceparent: `00-${traceId}-${callerSpanId}-01` } });
    const { data, response } = await client.chat.completions
      .create({ model: 'auto', messages: [{ role: 'user', content: `${marker} ${simFault('premium-a', { error: 'overloaded' })}` }] })
      .withResponse();
    assert.equal(response.headers.get('x-llm-fallback'), 'true');
    assert.ok(data.usage!.prompt_tokens > 0);

    const ofTrace = () => receiver.spans.filter((s) => s.traceId === traceId);
    await until(() => ofTrace().length >= 3, 'the call span and its two attempt spans at the receiver', 15_000);
    const contentType = protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
    assert.ok(receiver.contentTypes.every((t) => t.startsWith(contentType)), receiver.contentTypes.join());
    const spans = ofTrace();
    assert.equal(spans.length, 3, JSON.stringify(spans, null, 1));
    const callSpan = spans.find((s) => s.kind === INTERNAL)!;
    const attempts = spans.filter((s) => s.kind === CLIENT);

    // The call: a child of the caller's span, in its trace.
    assert.equal(callSpan.parentSpanId, callerSpanId);
    assert.equal(callSpan.service, 'gateway-under-test');
    assert.equal(callSpan.name, 'chat premium-a');
    const c = callSpan.attributes;
    assert.equal(c['gen_ai.operation.name'], 'chat');
    assert.equal(c['gen_ai.request.model'], 'premium-a');
    assert.equal(c['gen_ai.response.model'], 'up-premium-b');
    assert.equal(c['gen_ai.provider.name'], 'anthropic');
    assert.equal(c['gen_ai.system'], 'anthropic');
    assert.equal(c['gen_ai.usage.input_tokens'], data.usage!.prompt_tokens);
    assert.equal(c['gen_ai.usage.output_tokens'], data.usage!.completion_tokens);
    assert.equal(c['llm_router.traffic_class'], 'general');
    assert.equal(c['llm_router.fallback'], true);
    assert.equal(c['llm_router.attempts'], 2);
    assert.equal(c['llm_router.budget_tier'], 'normal');
    assert.equal(c['llm_router.request_id'], response.headers.get('x-request-id'));
    assert.deepEqual(c['llm_router.planned_route'], ['premium-a', 'premium-b']);
    assert.equal(c['llm_router.category'], undefined, 'the call succeeded');

    // The attempts: children of the call, the first failed and categorized, the second served.
    assert.equal(attempts.length, 2);
    for (const a of attempts) assert.equal(a.parentSpanId, callSpan.spanId);
    const [first, second] = [attempts.find((a) => a.attributes['llm_router.model'] === 'premium-a')!, attempts.find((a) => a.attributes['llm_router.model'] === 'premium-b')!];
    assert.equal(first.name, 'chat up-premium-a');
    assert.equal(first.attributes['gen_ai.provider.name'], 'openai');
    assert.equal(first.attributes['gen_ai.request.model'], 'up-premium-a');
    assert.equal(first.attributes['llm_router.category'], 'transient');
    assert.equal(first.attributes['error.type'], 'transient');
    assert.equal(typeof first.attributes['http.response.status_code'], 'number');
    assert.equal(first.status?.code, STATUS_ERROR);
    assert.equal(first.attributes['server.address'], '127.0.0.1');
    assert.equal(first.attributes['server.port'], sim.port);
    assert.equal(second.name, 'chat up-premium-b');
    assert.equal(second.attributes['gen_ai.provider.name'], 'anthropic');
    assert.equal(second.attributes['gen_ai.response.model'], 'up-premium-b');
    assert.equal(second.attributes['gen_ai.usage.input_tokens'], data.usage!.prompt_tokens);
    assert.equal(second.attributes['llm_router.attempt.outcome'], 'success');
    assert.equal(second.attributes['error.type'], undefined);

    // Upstream, each attempt's own context: the caller's trace, the attempt's span.
    const upstream = await simRequests(sim, marker);
    assert.deepEqual(
      upstream.map((r) => r.traceparent),
      [`00-${traceId}-${first.spanId}-01`, `00-${traceId}-${second.spanId}-01`],
    );
  });

  test('without a caller\'s traceparent the call span starts a trace; a refused call has a span with its category', async () => {
    const marker = `root ${hex(4)}`;
    const ok = await chat({ url: base }, key, marker, {}, { 'x-request-id': `root-${marker.slice(5)}` });
    assert.equal(ok.status, 200, ok.text);
    const failed = await chat({ url: base }, key, `${marker} ${simFault('premium-a', { error: 'overloaded' })} ${simFault('premium-b', { error: 'overloaded' })}`);
    assert.ok(failed.status >= 500, failed.text);
    const callOf = (requestId: string | null) => receiver.spans.find((s) => s.kind === INTERNAL && s.attributes['llm_router.request_id'] === requestId);
    await until(() => callOf(ok.headers.get('x-request-id')) !== undefined && callOf(failed.headers.get('x-request-id')) !== undefined, 'both call spans', 15_000);
    const root = callOf(ok.headers.get('x-request-id'))!;
    assert.equal(root.parentSpanId, undefined);
    const [upstream] = await simRequests(sim, marker);
    assert.match(upstream!.traceparent ?? '', new RegExp(`^00-${root.traceId}-[0-9a-f]{16}-01$`));
    const bad = callOf(failed.headers.get('x-request-id'))!;
    assert.equal(bad.attributes['llm_router.category'], 'transient');
    assert.equal(bad.attributes['error.type'], 'transient');
    assert.equal(bad.status?.code, STATUS_ERROR);
    assert.equal(bad.attributes['gen_ai.response.model'], undefined, 'nothing served');
    await until(() => receiver.spans.filter((s) => s.parentSpanId === bad.spanId).length === 2, 'the failed call\'s two attempts');
  });
});

test('tracing off (no OTEL_* variables): nothing goes upstream, the caller\'s traceparent included', async () => {
  const { sim, gw, close } = await sqliteGateway();
  try {
    const key = (await createKey(gw, { tenant: 'untraced' })).key;
    const marker = `untraced ${hex(4)}`;
    const res = await chat(gw, key, marker, {}, { traceparent: `00-${hex(16)}-${hex(8)}-01` });
    assert.equal(res.status, 200, res.text);
    const [upstream] = await simRequests(sim, marker);
    assert.ok(upstream, 'the simulator got the call');
    assert.equal(upstream.traceparent, undefined);
  } finally {
    await close();
  }
});

test('a collector that is down: calls are served, and the failed export is one JSON log line under OpenTelemetry', async () => {
  const closed = new OtlpReceiver();
  const endpoint = await closed.listen();
  await closed.close();
  const sim = await startSim();
  const dir = tempDir();
  const policyFile = join(dir.path, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(testPolicy(sim.url)));
  const gw = runMain(GATEWAY_MAIN, {
    PORT: '0',
    LLM_POLICY_FILE: policyFile,
    LLM_ADMIN_KEY: ADMIN_KEY,
    LLM_SQLITE_PATH: join(dir.path, 'g.sqlite'),
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_TIMEOUT: '500',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  });
  try {
    const base = await gatewayBaseUrl(gw);
    const key = (await createKey({ url: base }, { tenant: 'down' })).key;
    assert.equal((await chat({ url: base }, key, 'still served')).status, 200);
    await until(() => gw.lines.some((l) => l.includes('"context":"OpenTelemetry"')), 'the export failure logged', 15_000);
    const line = JSON.parse(gw.lines.find((l) => l.includes('"context":"OpenTelemetry"'))!);
    assert.equal(line.level, 'error');
    assert.match(line.msg, /ECONNREFUSED/);
  } finally {
    await gw.stop();
    await sim.close();
    dir.remove();
  }
});
