/**
 * What OpenTelemetry tracing costs per routed call, off and on. Each mode
 * runs in its own process, as the gateway would: `off` with no OTEL_*
 * variables (no SDK, no context manager), `on` with the gateway's own
 * start-up (apps/gateway/src/tracing/tracing.ts: the NodeSDK, OTLP/HTTP
 * protobuf, batch span processor) exporting to a real OTLP sink in this
 * parent process, so the serialization and the HTTP export are counted. The
 * call is the library's, over an in-process fake transport (as in
 * micro.ts): a single-target call (a call span and one attempt span) and a
 * fallback (a call span and two attempt spans). Off, the only work is asking
 * the API for the global provider's delegate tracer: measured alone as well.
 * Prints one JSON object.
 *
 * Run: npm run bench:tracing
 * Env: TRACING_MICRO_CALLS (calls per batch, default 5000), TRACING_MICRO_BATCHES (per process, default 5), TRACING_MICRO_ROUNDS (off/on process pairs, default 3).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { compilePolicy, createLlmRouter, loadPolicyFile, type ChatCompletionRequest, type PolicyDocument } from '@llm-router/nestjs';
import { ScriptedTransport } from '@llm-router/nestjs/testing';
import { startTracing } from '../../apps/gateway/src/tracing/tracing.js';
import { BENCH_DIR } from './config.js';

const CALLS = Number(process.env.TRACING_MICRO_CALLS ?? 5_000);
const BATCHES = Number(process.env.TRACING_MICRO_BATCHES ?? 5);
const ROUNDS = Number(process.env.TRACING_MICRO_ROUNDS ?? 3);
const MODE = process.env.TRACING_MICRO_MODE as 'off' | 'on' | undefined;

interface ModeResult {
  mode: 'off' | 'on';
  /** µs per call, fastest batch. */
  singleUs: number;
  fallbackUs: number;
  /** Off only: ns per look-up of the global provider and its delegate tracer while no SDK is registered (the whole off-path work). */
  offCheckNs?: number;
}

async function measure(mode: 'off' | 'on'): Promise<ModeResult> {
  const tracing = mode === 'on' ? await startTracing(process.env) : undefined;
  if (mode === 'on' && tracing === undefined) throw new Error('tracing did not start: OTEL_EXPORTER_OTLP_ENDPOINT is not set');
  const doc = loadPolicyFile(join(BENCH_DIR, 'policy.yaml')) as PolicyDocument;
  const policy = compilePolicy({ ...doc, circuit: { ...doc.circuit, failureThreshold: 1_000_000_000 } });
  const answer = JSON.stringify({
    id: 'chatcmpl-tracing',
    object: 'chat.completion',
    created: 1,
    model: 'sim-bench-b',
    choices: [{ index: 0, message: { role: 'assistant', content: 'A short answer.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 42, completion_tokens: 9, total_tokens: 51 },
  });
  const transport = new ScriptedTransport()
    .script('sim-bench-b', { status: 200, body: answer })
    .script('sim-bench-a', { status: 503, body: '{"error":{"message":"overloaded","type":"server_error"}}', headers: { 'content-type': 'application/json' } });
  const router = createLlmRouter({ policy, transport });
  router.records$.subscribe(() => undefined);
  const request = { model: 'auto', messages: [{ role: 'user', content: 'Where is my order #12345?' }], max_tokens: 64 } as ChatCompletionRequest;
  const traceparent = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };

  const batch = async (trafficClass: string): Promise<number> => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) await router.complete(request, { trafficClass, tenant: 'bench', traceCarrier: traceparent });
    transport.calls.length = 0;
    return Number(process.hrtime.bigint() - t0) / 1e3 / CALLS;
  };
  const single: number[] = [];
  const fallback: number[] = [];
  await batch('bench-single');
  for (let b = 0; b < BATCHES; b++) {
    single.push(await batch('bench-single'));
    fallback.push(await batch('bench-fallback'));
  }
  let offCheckNs: number | undefined;
  if (mode === 'off') {
    const n = 5_000_000;
    let found = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if ((trace.getTracerProvider() as ProxyTracerProvider).getDelegateTracer('@llm-router/nestjs') !== undefined) found++;
    offCheckNs = Number(process.hrtime.bigint() - t0) / n;
    if (found !== 0) throw new Error('a tracer was registered in the off mode');
  }
  await tracing?.shutdown();
  router.close();
  return { mode, singleUs: Math.min(...single), fallbackUs: Math.min(...fallback), ...(offCheckNs !== undefined ? { offCheckNs } : {}) };
}

/** One mode in a child process of this script. */
function runMode(mode: 'off' | 'on', endpoint: string): Promise<ModeResult> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, TRACING_MICRO_MODE: mode, TRACING_MICRO_CALLS: String(CALLS), TRACING_MICRO_BATCHES: String(BATCHES) };
  if (mode === 'on') Object.assign(env, { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'tracing-micro' });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as ModeResult) : reject(new Error(`${mode} exited with ${code}: ${out}`))));
  });
}

if (MODE) {
  process.stdout.write(JSON.stringify(await measure(MODE)));
} else {
  // The OTLP sink: what a collector does on receipt (read the body, answer 200), nothing more.
  let exports = 0;
  let bytes = 0;
  const sink = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      if (req.url === '/v1/traces') exports++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const off: ModeResult[] = [];
  const on: ModeResult[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    off.push(await runMode('off', endpoint));
    on.push(await runMode('on', endpoint));
  }
  sink.close();
  const best = (results: ModeResult[], field: 'singleUs' | 'fallbackUs') => Math.min(...results.map((r) => r[field]));
  const round = (n: number) => Math.round(n * 100) / 100;
  const offSingle = best(off, 'singleUs');
  const onSingle = best(on, 'singleUs');
  const offFallback = best(off, 'fallbackUs');
  const onFallback = best(on, 'fallbackUs');
  console.log(
    JSON.stringify(
      {
        calls: CALLS,
        batches: BATCHES,
        rounds: ROUNDS,
        offCheckNs: round(Math.min(...off.map((r) => r.offCheckNs ?? Infinity))),
        single: { offUs: round(offSingle), onUs: round(onSingle), tracingUs: round(onSingle - offSingle) },
        fallback: { offUs: round(offFallback), onUs: round(onFallback), tracingUs: round(onFallback - offFallback) },
        exported: { requests: exports, kib: Math.round(bytes / 1024) },
      },
      null,
      2,
    ),
  );
}
