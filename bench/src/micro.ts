/**
 * Library micro-benchmark, run in its own process: one routed call through
 * LlmRouter over an in-process fake transport (ScriptedTransport), against the
 * same fake transport called directly, serializing the request and parsing the
 * answer as any client must. The difference is what planning, translation,
 * categorization, the circuit gate, budget and recording cost per call.
 * Prints one JSON object on stdout.
 *
 * Batches of each case are interleaved; the fastest batch of each counts.
 * Env: BENCH_MICRO_CALLS (calls per batch, default 10000), BENCH_MICRO_BATCHES (default 9).
 */
import { join } from 'node:path';
import { compilePolicy, loadPolicyFile, createLlmRouter, type ChatCompletionRequest, type CompiledProvider, type PolicyDocument } from '@llm-router/nestjs';
import { ScriptedTransport } from '@llm-router/nestjs/testing';
import { BENCH_DIR } from './config.js';
import type { MicroResult } from './micro-result.js';

const CALLS = Number(process.env.BENCH_MICRO_CALLS ?? 20_000);
const BATCHES = Number(process.env.BENCH_MICRO_BATCHES ?? 9);


const completionBody = (model: string) =>
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: `Simulated reply from ${model}: a short answer.` }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 42, completion_tokens: 9, total_tokens: 51 },
  });
const errorBody = JSON.stringify({ error: { message: 'The engine is currently overloaded, please try again later', type: 'server_error', param: null, code: null } });
const streamPieces = (model: string) => {
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  return [chunk({ role: 'assistant', content: '' }), ...['Simul', 'ated ', 'reply', ' from', ' the ', 'bench'].map((c) => chunk({ content: c })), chunk({}, 'stop'), 'data: [DONE]\n\n'];
};

const request: ChatCompletionRequest = {
  model: 'auto',
  messages: [
    { role: 'system', content: 'You are a concise assistant for an online shop.' },
    { role: 'user', content: 'Where is my order #12345? It was due yesterday and the tracking page shows nothing.' },
  ],
  max_tokens: 64,
} as ChatCompletionRequest;

const doc = loadPolicyFile(join(BENCH_DIR, 'policy.yaml')) as PolicyDocument;
// Keep the fallback scenario's primary circuit closed, as in the HTTP benchmark.
const policy = compilePolicy({ ...doc, circuit: { ...doc.circuit, failureThreshold: 1_000_000_000 } });

const transport = new ScriptedTransport();
transport
  .script('sim-bench-b', { status: 200, body: completionBody('sim-bench-b') })
  .script('sim-bench-a', { status: 503, body: errorBody, headers: { 'content-type': 'application/json' } });
const router = createLlmRouter({ policy, transport });
// Streams: the same policy over a second fake transport that answers with SSE pieces.
const streamTransport = new ScriptedTransport().script('sim-bench-b', { status: 200, chunks: streamPieces('sim-bench-b') });
const streamRouter = createLlmRouter({ policy, transport: streamTransport });
// The fallback class with the primary's circuit open (default threshold, cool-down longer than the run).
const circuitPolicy = compilePolicy(doc);
const circuitTransport = new ScriptedTransport()
  .script('sim-bench-b', { status: 200, body: completionBody('sim-bench-b') })
  .script('sim-bench-a', { status: 503, body: errorBody, headers: { 'content-type': 'application/json' } });
const circuitRouter = createLlmRouter({ policy: circuitPolicy, transport: circuitTransport });
// Recording is part of a routed call: keep a consumer on the records, as persistence would.
let records = 0;
router.records$.subscribe(() => records++);
streamRouter.records$.subscribe(() => records++);
circuitRouter.records$.subscribe(() => records++);
for (let i = 0; i < 10; i++) await circuitRouter.complete(request, { trafficClass: 'bench-fallback', tenant: 'bench' });
circuitTransport.calls.length = 0;
await circuitRouter.complete(request, { trafficClass: 'bench-fallback', tenant: 'bench' });
if (circuitTransport.callsTo('sim-bench-a') !== 0) throw new Error("the primary's circuit did not open in the micro-benchmark");

const provider = policy.providers.get('bench-sim') as CompiledProvider;

/** The fake transport called directly: serialize, send, collect, parse. */
function direct(model: string, stream: boolean): Promise<unknown> {
  const t = stream ? streamTransport : transport;
  const body = JSON.stringify({ ...request, model, ...(stream ? { stream: true } : {}) });
  return new Promise((resolve, reject) => {
    let status = 0;
    let text = '';
    const parsed: unknown[] = [];
    t.send({ provider, request: { path: '/chat/completions', headers: { 'content-type': 'application/json' }, body }, firstByteTimeoutMs: 10_000 }).subscribe({
      next: (e) => {
        if (e.type === 'head') status = e.status;
        else if (stream) {
          for (const line of e.text.split('\n')) if (line.startsWith('data: ') && line !== 'data: [DONE]') parsed.push(JSON.parse(line.slice(6)));
        } else text += e.text;
      },
      error: reject,
      complete: () => resolve(stream ? parsed : { status, json: JSON.parse(text) }),
    });
  });
}

/** The client-side equivalent of a fallback: the primary's 503, then the secondary. */
async function directFallback(): Promise<unknown> {
  await direct('sim-bench-a', false);
  return direct('sim-bench-b', false);
}

function routedStream(): Promise<void> {
  return new Promise((resolve, reject) => {
    streamRouter.stream$({ ...request, stream: true } as ChatCompletionRequest, { trafficClass: 'bench-single', tenant: 'bench' }).subscribe({ error: reject, complete: resolve });
  });
}

async function timeBatch(fn: () => Promise<unknown>, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  transport.calls.length = 0;
  streamTransport.calls.length = 0;
  circuitTransport.calls.length = 0;
  return us;
}

/** The fastest batch: other work on the machine only ever adds time to a CPU-bound loop. */
function best(v: number[]): number {
  return Math.min(...v);
}

const cases = {
  direct: () => direct('sim-bench-b', false),
  routed: () => router.complete(request, { trafficClass: 'bench-single', tenant: 'bench' }),
  fallbackDirect: directFallback,
  fallbackRouted: () => router.complete(request, { trafficClass: 'bench-fallback', tenant: 'bench' }),
  streamDirect: () => direct('sim-bench-b', true),
  streamRouted: routedStream,
  circuitRouted: () => circuitRouter.complete(request, { trafficClass: 'bench-fallback', tenant: 'bench' }),
};
type CaseName = keyof typeof cases;
const samples: Record<CaseName, number[]> = { direct: [], routed: [], fallbackDirect: [], fallbackRouted: [], streamDirect: [], streamRouted: [], circuitRouted: [] };

// Sanity: every case completes and the routed calls land where expected.
const check = (await router.complete(request, { trafficClass: 'bench-fallback', tenant: 'bench' })).outcome;
if (check.model !== 'bench-b' || !check.fallback || check.attempts !== 2) throw new Error(`unexpected fallback outcome ${JSON.stringify(check)}`);
for (const fn of Object.values(cases)) await fn();

// Warm-up, then interleaved batches.
for (const fn of Object.values(cases)) await timeBatch(fn, Math.min(CALLS, 5_000));
for (let b = 0; b < BATCHES; b++) {
  for (const name of Object.keys(cases) as CaseName[]) samples[name].push(await timeBatch(cases[name], CALLS));
}

const m = (n: CaseName) => best(samples[n]);
const result: MicroResult = {
  calls: CALLS,
  batches: BATCHES,
  directUs: m('direct'),
  routedUs: m('routed'),
  overheadUs: m('routed') - m('direct'),
  fallbackDirectUs: m('fallbackDirect'),
  fallbackRoutedUs: m('fallbackRouted'),
  fallbackOverheadUs: m('fallbackRouted') - m('fallbackDirect'),
  streamDirectUs: m('streamDirect'),
  streamRoutedUs: m('streamRouted'),
  streamOverheadUs: m('streamRouted') - m('streamDirect'),
  circuitRoutedUs: m('circuitRouted'),
  circuitOverheadUs: m('circuitRouted') - m('routed'),
};
router.close();
streamRouter.close();
circuitRouter.close();
if (records === 0) throw new Error('no routing record was emitted');
process.stdout.write(JSON.stringify(result) + '\n');
